import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";

// Every relative link in the README and the docs must lead somewhere: a moved page or a renamed file breaks a
// newcomer's first read, and nothing else would notice.
const root = process.cwd();

function markdownFiles(): string[] {
  const files = ["README.md", "SECURITY.md"].filter((f) => existsSync(path.join(root, f)));
  const walk = (dir: string): void => {
    for (const entry of readdirSync(path.join(root, dir), { withFileTypes: true })) {
      const rel = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(rel);
      else if (entry.name.endsWith(".md")) files.push(rel);
    }
  };
  walk("docs");
  for (const dir of ["local", "domain", "infra", "test/fixtures"]) if (existsSync(path.join(root, dir))) walk(dir);
  return files;
}

/** Inline links and images `[text](target)`, outside code blocks and code spans. */
function relativeLinks(markdown: string): string[] {
  const prose = markdown.replace(/^```[\s\S]*?^```/gm, "").replace(/`[^`\n]*`/g, "");
  const targets = [...prose.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)].map((m) => m[1]!);
  return targets.filter((t) => !/^[a-z][a-z0-9+.-]*:/i.test(t) && !t.startsWith("#"));
}

describe("documentation links", () => {
  const files = markdownFiles();

  it("finds the README and the docs pages", () => {
    expect(files).toContain("README.md");
    expect(files.filter((f) => f.startsWith("docs"))).not.toHaveLength(0);
  });

  it.each(files)("every relative link in %s resolves to a file in the repository", (file) => {
    const text = readFileSync(path.join(root, file), "utf8");
    const broken = relativeLinks(text).filter((target) => {
      const withoutAnchor = decodeURIComponent(target.split("#")[0]!);
      return !existsSync(path.resolve(root, path.dirname(file), withoutAnchor));
    });
    expect(broken).toEqual([]);
  });

  it("the README stays short enough to read in ten minutes", () => {
    const lines = readFileSync(path.join(root, "README.md"), "utf8").split("\n").length;
    expect(lines).toBeLessThanOrEqual(160);
  });
});
