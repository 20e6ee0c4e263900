// The widget's markdown renderer and SSE parser, fed hostile and ordinary input.
// Run: node --test chat/tests/js/   (also run by chat/tests/test_widget_markdown.py)
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');

const { markdown, safeUrl, sseParse } = require(path.join(__dirname, '../../static/chat/widget.js'));

const BASE = 'https://docs.example.com/docs/intro';
const SOURCES = [{ n: 1, title: 'Install', heading: 'Docker', url: 'https://docs.example.com/docs/install#docker' }];
const render = (src, sources = SOURCES) => markdown(src, sources, BASE);

// Every node in the tree, depth first.
function* walk(nodes) {
  for (const n of nodes) {
    yield n;
    if (typeof n === 'object' && n.c) yield* walk(n.c);
  }
}
const tags = (tree) => [...walk(tree)].filter((n) => typeof n === 'object').map((n) => n.t);
const links = (tree) => [...walk(tree)].filter((n) => n.t === 'a');
const text = (tree) => [...walk(tree)].map((n) => (typeof n === 'string' ? n : n.code || '')).join('');
const ALLOWED = new Set('p br strong em del code pre a ul ol li table thead tbody tr th td blockquote h3 h4 h5 h6 hr'.split(' '));

function assertSafe(tree) {
  for (const t of tags(tree)) assert.ok(ALLOWED.has(t), `unexpected tag ${t}`);
  for (const a of links(tree)) assert.match(a.href, /^https?:/, `unsafe href ${a.href}`);
  for (const n of walk(tree)) {
    if (typeof n === 'object') {
      for (const key of Object.keys(n)) assert.ok(['t', 'c', 'href', 'cls', 'title', 'code', 'lang', 'start'].includes(key), `attribute ${key}`);
    }
  }
}

test('raw HTML is shown as text, never as elements', () => {
  for (const src of [
    '<script>alert(1)</script>',
    '<img src=x onerror=alert(1)>',
    'before <iframe src="https://evil.example"></iframe> after',
    '<a href="javascript:alert(1)">click</a>',
    '<svg><script>alert(1)</script></svg>',
    '<style>body{display:none}</style>',
  ]) {
    const tree = render(src);
    assertSafe(tree);
    assert.deepEqual(tags(tree), ['p']);
    assert.equal(text(tree), src);
  }
});

test('an image with an onerror handler in markdown is not an image', () => {
  const tree = render('![x" onerror="alert(1)](https://evil.example/p.png)');
  assertSafe(tree);
  assert.ok(!tags(tree).includes('img'));
});

test('javascript, data and vbscript links are dropped but their text is kept', () => {
  for (const href of [
    'javascript:alert(1)', 'JaVaScRiPt:alert(1)', ' javascript:alert(1)', 'java\tscript:alert(1)',
    'java%0ascript:alert(1)', 'data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==',
    'vbscript:msgbox(1)', 'file:///etc/passwd', '<javascript:alert(1)>',
  ]) {
    const tree = render(`[click me](${href})`);
    assertSafe(tree);
    assert.ok(links(tree).every((a) => !/^(javascript|data|vbscript|file):/i.test(a.href)), href);
    assert.match(text(tree), /click me/);
  }
});

test('autolinks only become links for http and https', () => {
  const tree = render('<javascript:alert(1)> and <https://docs.example.com/a>');
  assertSafe(tree);
  assert.deepEqual(links(tree).map((a) => a.href), ['https://docs.example.com/a']);
});

test('images become links (never images), and only to allowed origins', () => {
  const tree = render('![tracking pixel](https://evil.example/p.png?leak=secret) ![shot](/img/shot.png)');
  assertSafe(tree);
  assert.ok(!tags(tree).includes('img'));
  assert.deepEqual(links(tree).map((a) => a.href), ['https://docs.example.com/img/shot.png']);
  assert.match(text(tree), /image: tracking pixel/);
});

test('data URL images are plain text', () => {
  const tree = render('![x](data:image/svg+xml;base64,PHN2Zz48L3N2Zz4=)');
  assertSafe(tree);
  assert.deepEqual(links(tree), []);
  assert.equal(text(tree), 'image: x');
});

test('nested tricks stay inert', () => {
  for (const src of [
    '[![x](javascript:alert(1))](https://ok.example)',
    '[a](https://ok.example "title" onmouseover="alert(1)")',
    '**<img src=x onerror=alert(1)>**',
    '`<script>` and ```<script>```',
    '[x](javascript&#58;alert(1))',
    '[x](&#106;avascript:alert(1))',
    '| <b>h</b> |\n|---|\n| <img src=x> |',
    '> <script>alert(1)</script>',
    '- [x](javascript:alert(1))',
    '[[1]](javascript:alert(1))',
    '\\<script>alert(1)\\</script>',
  ]) {
    const tree = render(src);
    assertSafe(tree);
    assert.ok(!tags(tree).includes('img'), src);
  }
});

test('links are resolved against the page and keep their text', () => {
  const tree = render('See [the install guide](/docs/install#docker) or [mail](mailto:docs@example.com?body=secret).');
  assertSafe(tree);
  assert.deepEqual(links(tree).map((a) => a.href), ['https://docs.example.com/docs/install#docker']);
  assert.match(text(tree), /or mail\./);
});

test('a link is made only when the browser would resolve it to an allowed origin', () => {
  const evil = [
    '//evil.example/x?d=secret', 'http:\\\\evil.example\\x', '\\\\evil.example/x', '/\\evil.example/x',
    'https:/evil.example/x', 'http:/evil.example/x', "https://docs.example.com'@evil.example/x",
    'https://docs.example.com"@evil.example/x', 'https://user:pw@docs.example.com/x', 'HTTPS://EVIL.EXAMPLE/x',
    'https://docs.example.com.evil.example/x', 'https://docs.example.com:8443/x', 'http://docs.example.com/x',
  ];
  for (const href of evil) {
    for (const src of [`[read](${href})`, `<${href}>`, href, `[[1]](${href})`, `![i](${href})`]) {
      const tree = render(src);
      assertSafe(tree);
      for (const a of links(tree)) assert.equal(new URL(a.href).origin, 'https://docs.example.com', `${src} -> ${a.href}`);
    }
  }
  // Another allowed origin (the chat server), and a source's own origin, are fine.
  const other = markdown('[api](https://chat.example.com/x) [src](https://other.example/y) [no](https://no.example/)',
    [{ n: 1, title: 't', url: 'https://other.example/page' }], BASE, ['https://docs.example.com', 'https://chat.example.com']);
  assert.deepEqual(links(other).map((a) => a.href), ['https://chat.example.com/x', 'https://other.example/y']);
});

test('citations link to their source', () => {
  const tree = render('Use the image [1]. Unknown [7].');
  const [cite] = links(tree);
  assert.equal(cite.href, SOURCES[0].url);
  assert.equal(cite.cls, 'cite');
  assert.equal(text(cite.c), '[1]');
  assert.match(text(tree), /Unknown \[7\]\./);
});

test('a source with a javascript URL does not make its citation a link', () => {
  const tree = render('Look [1].', [{ n: 1, title: 'x', url: 'javascript:alert(1)' }]);
  assert.deepEqual(links(tree), []);
});

test('code blocks keep their text exactly and their language', () => {
  const src = '```python\nprint("<b>hi</b>")\n  indented *not emphasis*\n```';
  const [block] = render(src);
  assert.deepEqual(block, { t: 'pre', code: 'print("<b>hi</b>")\n  indented *not emphasis*', lang: 'python' });
});

test('an unclosed code block while streaming holds the rest of the text', () => {
  const [block] = render('```js\nconst a = 1;');
  assert.equal(block.t, 'pre');
  assert.equal(block.code, 'const a = 1;');
});

test('lists, nested lists and ordered lists', () => {
  const tree = render('- one\n- two\n  - two a\n\n3. three\n4. four');
  assert.deepEqual(tags(tree), ['ul', 'li', 'li', 'ul', 'li', 'ol', 'li', 'li']);
  assert.equal(tree[1].start, 3);
});

test('tables with inline formatting', () => {
  const tree = render('| Setting | Default |\n|:--|--:|\n| `DEBUG` | **false** |');
  assert.deepEqual(tags(tree), ['table', 'thead', 'tr', 'th', 'th', 'tbody', 'tr', 'td', 'code', 'td', 'strong']);
});

test('emphasis, strong, strikethrough and inline code', () => {
  const tree = render('*a* **b** _c_ __d__ ~~e~~ `f`');
  assert.deepEqual(tags(tree), ['p', 'em', 'strong', 'em', 'strong', 'del', 'code']);
});

test('underscores inside words are not emphasis', () => {
  const tree = render('Set CHAT_MAX_MESSAGE_CHARS and snake_case_name.');
  assert.deepEqual(tags(tree), ['p']);
  assert.equal(text(tree), 'Set CHAT_MAX_MESSAGE_CHARS and snake_case_name.');
});

test('headings are demoted to fit in a chat bubble', () => {
  assert.deepEqual(tags(render('# A\n## B\n### C')), ['h3', 'h4', 'h5']);
});

test('safeUrl accepts only http and https URLs on an allowed origin, without userinfo', () => {
  const ok = ['https://a.example'];
  assert.equal(safeUrl('https://a.example/x', BASE, ok), 'https://a.example/x');
  assert.equal(safeUrl('//a.example/x', BASE, ok), 'https://a.example/x');
  assert.equal(safeUrl('/\\a.example/x', BASE, ok), 'https://a.example/x');
  assert.equal(safeUrl('https://b.example/x', BASE, ok), null);
  assert.equal(safeUrl('https://u@a.example/x', BASE, ok), null);
  assert.equal(safeUrl('mailto:a@a.example', BASE, ok), null);
  assert.equal(safeUrl('/docs/x', BASE), 'https://docs.example.com/docs/x');
  assert.equal(safeUrl('javascript:alert(1)', BASE), null);
  assert.equal(safeUrl('data:text/html,hi', BASE), null);
  assert.equal(safeUrl('blob:https://a.example/1', BASE), null);
  assert.equal(safeUrl('http://[bad', BASE), null);
});

test('very long hostile input renders without hanging', () => {
  const src = '*'.repeat(3000) + '_'.repeat(3000) + '['.repeat(2000) + '`'.repeat(2000);
  const tree = render(src);
  assertSafe(tree);
});

test('SSE events are split across chunks and keep partial events for later', () => {
  let [events, rest] = sseParse('event: session\ndata: {"session_id":"s"}\n\nevent: delta\ndata: {"te');
  assert.deepEqual(events, [{ event: 'session', data: '{"session_id":"s"}' }]);
  [events, rest] = sseParse(rest + 'xt":"hi"}\r\n\r\n: keep-alive\n\n');
  assert.deepEqual(events, [{ event: 'delta', data: '{"text":"hi"}' }]);
  assert.equal(rest, '');
});

test('SSE multi-line data joins with newlines', () => {
  const [events] = sseParse('data: a\ndata: b\n\n');
  assert.deepEqual(events, [{ event: 'message', data: 'a\nb' }]);
});
