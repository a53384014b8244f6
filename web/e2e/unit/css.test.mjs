// The stylesheet is edited by hand and merged often: an unclosed block
// silently turns every rule after it into a phone-only rule. Check that
// every block closes where it should.
import test from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

const css = readFileSync(new URL('../../static/app.css', import.meta.url), 'utf8')
  .replace(/\/\*[\s\S]*?\*\//g, '') // comments
  .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'/g, '""'); // strings

test('app.css: every block closes, and @media blocks hold only rules', () => {
  let depth = 0;
  const stack = [];
  let line = 1;
  let start = 0;
  for (let i = 0; i < css.length; i++) {
    const c = css[i];
    if (c === '\n') line++;
    if (c === '{') {
      const head = css.slice(start, i).trim();
      if (head.startsWith('@media') && depth !== 0) assert.fail(`line ${line}: @media nested inside another block (an earlier block is not closed)`);
      stack.push({ head, line });
      depth++;
      start = i + 1;
    } else if (c === '}') {
      assert.ok(depth > 0, `line ${line}: } closes nothing`);
      stack.pop();
      depth--;
      start = i + 1;
    } else if (c === ';' && depth === 0) {
      start = i + 1;
    }
  }
  assert.equal(depth, 0, `unclosed block opened at line ${stack.length ? stack[stack.length - 1].line : '?'}: ${stack.map((s) => s.head).join(' > ')}`);
});
