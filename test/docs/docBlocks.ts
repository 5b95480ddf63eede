/**
 * The code blocks of a walk-through document, each marked by the HTML comment before its fence:
 * `<!-- file: path -->` (create the file), `<!-- insert before: path NAME -->` (above
 * `export const NAME`), `<!-- insert into: path NAME -->` (at the end of the object literal
 * `export const NAME = {`), `<!-- example -->` (not applied: code some applied file must contain).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

export type DocBlock =
  | { kind: 'file'; path: string; code: string }
  | { kind: 'insert before' | 'insert into'; path: string; anchor: string; code: string }
  | { kind: 'example'; code: string };

const MARKED_FENCE = /<!-- (file|insert before|insert into|example)(?::[ \t]*(\S+)(?:[ \t]+(\S+))?)?[ \t]*-->[ \t]*\n```ts\n([\s\S]*?)\n```/g;

/** Every ```ts block, in order; an unmarked one is an error, so no block goes unchecked. */
export function parseDocBlocks(markdown: string): DocBlock[] {
  const blocks: DocBlock[] = [];
  for (const [, kind, path, anchor, code = ''] of markdown.matchAll(MARKED_FENCE)) {
    if (kind === 'example') blocks.push({ kind, code });
    else if (!path) throw new Error(`<!-- ${kind}: … --> needs a path`);
    else if (kind === 'file') blocks.push({ kind, path, code });
    else if (!anchor) throw new Error(`<!-- ${kind}: ${path} … --> needs the name of an exported const`);
    else blocks.push({ kind: kind === 'insert into' ? 'insert into' : 'insert before', path, anchor, code });
  }
  const fences = markdown.match(/^```ts$/gm)?.length ?? 0;
  if (fences !== blocks.length) throw new Error(`${fences - blocks.length} \`\`\`ts block(s) have no <!-- file | insert … | example --> comment`);
  return blocks;
}

/** Applies a `file` or `insert` block to the tree at `root`. */
export function applyDocBlock(root: string, block: Exclude<DocBlock, { kind: 'example' }>): void {
  const target = join(root, block.path);
  if (block.kind === 'file') {
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, `${block.code}\n`);
    return;
  }
  const lines = readFileSync(target, 'utf8').split('\n');
  const start = lines.findIndex((line) => line.startsWith(`export const ${block.anchor} `));
  if (start < 0) throw new Error(`${block.path} has no \`export const ${block.anchor}\``);
  if (block.kind === 'insert before') {
    lines.splice(start, 0, block.code, '');
  } else {
    // The object literal ends at the first line after its start that closes at column 0.
    const end = lines.findIndex((line, i) => i > start && line.startsWith('}'));
    if (end < 0) throw new Error(`${block.path}: the end of ${block.anchor} was not found`);
    lines.splice(end, 0, block.code);
  }
  writeFileSync(target, lines.join('\n'));
}

/** Code without its import lines and with no whitespace: compares snippets across formatting. */
export function normalizeCode(code: string): string {
  return code
    .split('\n')
    .filter((line) => !line.startsWith('import '))
    .join('')
    .replace(/\s+/g, '');
}
