/*! Docs chat widget: one <docs-chat> element, no dependencies. See docs/widget.md.
 *
 * Add it to any page (or Docusaurus `scripts`) with
 *   <script src="https://chat.example.com/static/chat/widget.js" defer
 *           data-api="https://chat.example.com"></script>
 *
 * Model and user text reach the DOM only as text nodes: the markdown renderer below builds a
 * small tree of allowlisted tags (no raw HTML, no images, only http(s)/mailto links) that
 * `toDom` turns into elements with createElement/textContent. It runs in Node too (no DOM),
 * which is how chat/tests/js/ tests it.
 */
(() => {
  'use strict';

  // ---- Markdown → safe tree ------------------------------------------------------------
  // A node is a string (text) or {t: tag, c: children, href?, cls?, title?, code?, lang?}.

  // A link is made only to an allowed origin, resolved exactly as the browser will resolve
  // it (WHATWG URL: backslashes, scheme-relative, `https:/host`, userinfo): a model steered by
  // a hostile page cannot send the conversation to another host. Anything else stays text.
  const originOf = (url, base) => {
    try {
      const u = new URL(url, base);
      return /^https?:$/.test(u.protocol) ? u.origin : null;
    } catch (e) {
      return null;
    }
  };
  const safeUrl = (url, base, origins) => {
    try {
      const u = new URL(url, base);
      if (!/^https?:$/.test(u.protocol) || u.username || u.password) return null;
      return (origins || [originOf(base)]).includes(u.origin) ? u.href : null;
    } catch (e) {
      return null;
    }
  };

  const INLINE = new RegExp([
    /(`+)([^`][\s\S]*?)\1(?!`)/, // 1,2 code span
    /\\([!-/:-@[-`{-~])/, // 3 escape
    /!\[([^\]]*)\]\(\s*<?([^\s)>]*)>?(?:\s+"[^"]*")?\s*\)/, // 4,5 image
    /\[((?:[^[\]]|\[[^\]]*\])*)\]\(\s*<?([^\s)>]*)>?(?:\s+"[^"]*")?\s*\)/, // 6,7 link
    /\[(\d{1,3})\]/, // 8 citation
    /<(https?:\/\/[^\s<>]+)>/, // 9 autolink
    /(https?:\/\/[^\s<]*[^\s<.,:;"')\]!?*_])/, // 10 bare URL
    /(\*\*|__)(?=\S)([\s\S]*?\S)\11/, // 11,12 strong
    /(~~)(?=\S)([\s\S]*?\S)~~/, // 13,14 strikethrough
    /([*_])(?=\S)([\s\S]*?\S)\15/, // 15,16 emphasis
    / {2,}\n|\\\n|\n/, // line break
  ].map((r) => r.source).join('|'));

  const inline = (s, ctx) => {
    const out = [];
    const text = (t) => {
      if (!t) return;
      if (typeof out[out.length - 1] === 'string') out[out.length - 1] += t;
      else out.push(t);
    };
    const link = (href, c, cls, title) => {
      const url = safeUrl(href, ctx.base, ctx.origins);
      if (!url || ctx.inLink) return c.forEach((n) => (typeof n === 'string' ? text(n) : out.push(n)));
      out.push({ t: 'a', href: url, c, cls, title });
    };
    let m;
    while (s && (m = INLINE.exec(s))) {
      const [all] = m;
      const prev = s[m.index - 1] || ' ';
      text(s.slice(0, m.index));
      s = s.slice(m.index + all.length);
      // Intraword underscores (snake_case) are not emphasis.
      if ((m[11] === '__' || m[15] === '_') && /\w/.test(prev)) {
        text(all[0]);
        s = all.slice(1) + s;
      } else if (m[2] !== undefined) out.push({ t: 'code', c: [m[2].replace(/^ (.*) $/, '$1')] });
      else if (m[3] !== undefined) text(m[3]);
      else if (m[5] !== undefined) {
        // Never an <img>: a remote image is a tracking pixel. Show it as a link instead.
        const alt = 'image: ' + (m[4] || 'untitled');
        link(m[5], [alt], 'img', alt);
      } else if (m[7] !== undefined) link(m[7], inline(m[6], { ...ctx, inLink: true }));
      else if (m[8] !== undefined) {
        const src = ctx.sources[+m[8] - 1];
        if (src && src.url) link(src.url, [all], 'cite', src.title);
        else text(all);
      } else if (m[9] !== undefined) link(m[9], [m[9]]);
      else if (m[10] !== undefined) link(m[10], [m[10]]);
      else if (m[12] !== undefined) out.push({ t: 'strong', c: inline(m[12], ctx) });
      else if (m[14] !== undefined) out.push({ t: 'del', c: inline(m[14], ctx) });
      else if (m[16] !== undefined) out.push({ t: 'em', c: inline(m[16], ctx) });
      else out.push({ t: 'br' });
    }
    text(s);
    return out;
  };

  const FENCE = /^ {0,3}(`{3,}|~{3,})\s*([\w+#.-]*)/;
  const HEADING = /^ {0,3}(#{1,6})\s+(.*?)(?:\s+#+)?\s*$/;
  const HR = /^ {0,3}([-*_])(?:\s*\1){2,}\s*$/;
  const QUOTE = /^ {0,3}> ?/;
  const ITEM = /^( {0,3})([-*+]|\d{1,9}[.)])(\s+|$)/;
  const DELIM = /^\s*\|?\s*:?-+:?\s*(\|\s*:?-+:?\s*)*\|?\s*$/;
  const cells = (line) => line.trim().replace(/^\||\|$/g, '').split('|').map((c) => c.trim());
  const startsBlock = (line) => FENCE.test(line) || HEADING.test(line) || HR.test(line) ||
    QUOTE.test(line) || ITEM.test(line);

  const blocks = (src, ctx) => {
    const lines = src.replace(/\r\n?/g, '\n').split('\n');
    const out = [];
    let i = 0;
    while (i < lines.length) {
      const line = lines[i];
      let m;
      if (!line.trim()) {
        i++;
      } else if ((m = FENCE.exec(line))) {
        const code = [];
        const close = new RegExp('^ {0,3}' + m[1][0] + '{' + m[1].length + ',}\\s*$');
        for (i++; i < lines.length && !close.test(lines[i]); i++) code.push(lines[i]);
        i++;
        out.push({ t: 'pre', code: code.join('\n'), lang: m[2] });
      } else if ((m = HEADING.exec(line))) {
        out.push({ t: 'h' + Math.min(m[1].length + 2, 6), c: inline(m[2], ctx) });
        i++;
      } else if (HR.test(line)) {
        out.push({ t: 'hr' });
        i++;
      } else if (line.includes('|') && (lines[i + 1] || '').includes('|') && DELIM.test(lines[i + 1])) {
        const row = (l, tag) => ({ t: 'tr', c: cells(l).map((c) => ({ t: tag, c: inline(c, ctx) })) });
        const body = [];
        const head = row(line, 'th');
        for (i += 2; i < lines.length && lines[i].includes('|') && lines[i].trim(); i++) body.push(row(lines[i], 'td'));
        out.push({ t: 'table', c: [{ t: 'thead', c: [head] }, { t: 'tbody', c: body }] });
      } else if (QUOTE.test(line)) {
        const inner = [];
        for (; i < lines.length && lines[i].trim() && (QUOTE.test(lines[i]) || !startsBlock(lines[i])); i++) {
          inner.push(lines[i].replace(QUOTE, ''));
        }
        out.push({ t: 'blockquote', c: blocks(inner.join('\n'), ctx) });
      } else if ((m = ITEM.exec(line))) {
        const ordered = /\d/.test(m[2]);
        const list = { t: ordered ? 'ol' : 'ul', c: [] };
        if (ordered && parseInt(m[2], 10) !== 1) list.start = parseInt(m[2], 10);
        while (i < lines.length && (m = ITEM.exec(lines[i])) && /\d/.test(m[2]) === ordered) {
          const indent = m[0].length;
          const item = [lines[i].slice(indent)];
          for (i++; i < lines.length; i++) {
            const l = lines[i];
            const blankThenIndented = !l.trim() && /^\s{2,}\S/.test(lines[i + 1] || '');
            if (blankThenIndented || /^\s{2,}\S/.test(l) || (l.trim() && !startsBlock(l) && item[item.length - 1].trim())) {
              item.push(l.replace(new RegExp('^ {0,' + indent + '}'), ''));
            } else break;
          }
          const c = blocks(item.join('\n'), ctx);
          list.c.push({ t: 'li', c: c[0] && c[0].t === 'p' ? [...c[0].c, ...c.slice(1)] : c });
          while (i < lines.length && !lines[i].trim() && ITEM.test(lines[i + 1] || '')) i++;
        }
        out.push(list);
      } else {
        const para = [];
        for (; i < lines.length && lines[i].trim() && !(para.length && startsBlock(lines[i])); i++) para.push(lines[i]);
        out.push({ t: 'p', c: inline(para.join('\n').trim(), ctx) });
      }
    }
    return out;
  };

  /** Parse markdown into a safe tree. `sources[n-1]` is what a `[n]` citation links to.
   * Links go only to `origins` (default: the page's) plus the sources' own origins. */
  const markdown = (src, sources, base, origins) => {
    sources = sources || [];
    origins = [...(origins || [originOf(base)]), ...sources.map((s) => originOf(s.url, base))].filter(Boolean);
    return blocks(String(src || ''), { sources, base, origins });
  };

  /** Split an SSE byte-stream buffer into complete events and the unfinished rest. */
  const sseParse = (buf) => {
    const events = [];
    let end;
    buf = buf.replace(/\r\n?/g, '\n');
    while ((end = buf.indexOf('\n\n')) >= 0) {
      let event = 'message';
      const data = [];
      for (const line of buf.slice(0, end).split('\n')) {
        const colon = line.indexOf(':');
        if (colon === 0) continue;
        const field = colon < 0 ? line : line.slice(0, colon);
        const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
        if (field === 'event') event = value;
        else if (field === 'data') data.push(value);
      }
      buf = buf.slice(end + 2);
      if (data.length) events.push({ event, data: data.join('\n') });
    }
    return [events, buf];
  };

  if (typeof window === 'undefined') {
    module.exports = { markdown, safeUrl, sseParse };
    return;
  }

  // ---- Tree → DOM ----------------------------------------------------------------------
  // Everything, fixed markup included, is built with createElement: no innerHTML anywhere, so
  // the widget loads clean under `require-trusted-types-for 'script'`.

  const TAGS = new Set('p br strong em del code a ul ol li table thead tbody tr th td blockquote h3 h4 h5 h6 hr'.split(' '));
  const h = (tag, props, ...kids) => {
    const el = document.createElement(tag);
    for (const k in props || {}) {
      if (k.startsWith('on')) el.addEventListener(k.slice(2), props[k]);
      else if (props[k] != null && props[k] !== false) el.setAttribute(k, props[k] === true ? '' : props[k]);
    }
    el.append(...kids.filter((k) => k != null));
    return el;
  };
  const svgEl = (tag, attrs) => {
    const el = document.createElementNS('http://www.w3.org/2000/svg', tag);
    for (const k in attrs) el.setAttribute(k, attrs[k]);
    return el;
  };
  const icon = (d) => {
    const svg = svgEl('svg', { viewBox: '0 0 24 24', width: 20, height: 20, 'aria-hidden': 'true', focusable: 'false' });
    svg.append(svgEl('path', { d, fill: 'none', stroke: 'currentColor', 'stroke-width': 2, 'stroke-linecap': 'round', 'stroke-linejoin': 'round' }));
    return svg;
  };

  const copyButton = (code, t) => {
    const btn = h('button', { type: 'button', class: 'copy', 'aria-label': t.copyCode }, t.copy);
    btn.addEventListener('click', async () => {
      try {
        await navigator.clipboard.writeText(code);
        btn.textContent = t.copied;
      } catch (e) {
        btn.textContent = t.copyFail;
      }
      setTimeout(() => (btn.textContent = t.copy), 1500);
    });
    return btn;
  };

  const toDom = (nodes, t) => {
    const frag = document.createDocumentFragment();
    for (const n of nodes) {
      if (typeof n === 'string') frag.append(n);
      else if (n.t === 'pre') {
        frag.append(h('div', { class: 'code', part: 'code' }, h('div', { class: 'bar' }, h('span', null, n.lang || 'code'),
          copyButton(n.code, t)), h('pre', null, h('code', null, n.code))));
      } else if (n.t === 'table') {
        frag.append(h('div', { class: 'table' }, h('table', null, toDom(n.c, t))));
      } else if (TAGS.has(n.t)) {
        const el = h(n.t, { class: n.cls, title: n.title, start: n.start });
        if (n.t === 'a') {
          el.href = n.href;
          el.rel = 'noopener noreferrer nofollow';
          if (new URL(n.href).origin !== location.origin) el.target = '_blank';
        }
        if (n.c) el.append(toDom(n.c, t));
        frag.append(el);
      }
    }
    return frag;
  };

  // ---- UI strings ----------------------------------------------------------------------
  // Picked from <html lang> (or the `lang` attribute); `strings` (JSON) overrides any of them,
  // flat ({"send": "…"}) or per language ({"de": {"send": "…"}}).

  const STRINGS = {
    en: {
      title: 'Ask the docs', greeting: 'Hi! Ask me anything about these docs.', open: 'Open chat', close: 'Close chat',
      closeHint: 'Close (Esc)', newChat: 'New conversation', log: 'Conversation', input: 'Your question',
      placeholder: 'Ask a question about the docs…', send: 'Send', stop: 'Stop answering', typing: 'The assistant is typing',
      copy: 'Copy', copyCode: 'Copy code', copied: 'Copied', copyFail: 'Select and copy', sources: 'Sources',
      helpfulQ: 'Was this helpful?', up: 'Helpful', down: 'Not helpful', thanks: 'Thanks for the feedback.',
      feedbackFail: 'Feedback not sent: ', stopped: 'Stopped.', retry: 'Retry', wrong: 'Something went wrong.',
      retryIn: 'You can retry in {n} seconds.', retryIn1: 'You can retry in 1 second.',
      unreachable: 'The assistant cannot be reached right now.', offline: 'You are offline. Check your connection, then retry.',
      interrupted: 'The answer was interrupted.', unfinished: 'The answer did not finish.',
      unsaved: 'This answer could not be saved to your history.', noHistory: 'The earlier conversation could not be loaded right now.',
      incomplete: 'Answer {n}.', http: 'The assistant is unavailable (HTTP {n}).', answer: 'Answer: ', jump: 'Jump to latest',
      askThis: 'Ask about this', askCode: 'Ask about this code', unquote: 'Remove the quote', quoted: 'Quote added. Type your question.',
      starters: 'Suggested questions',
    },
    fr: {
      title: 'Interroger la doc', greeting: 'Bonjour ! Posez-moi vos questions sur cette documentation.', open: 'Ouvrir le chat',
      close: 'Fermer le chat', closeHint: 'Fermer (Échap)', newChat: 'Nouvelle conversation', log: 'Conversation',
      input: 'Votre question', placeholder: 'Posez une question sur la doc…', send: 'Envoyer', stop: 'Arrêter la réponse',
      typing: 'L’assistant écrit', copy: 'Copier', copyCode: 'Copier le code', copied: 'Copié', copyFail: 'Sélectionnez et copiez',
      sources: 'Sources', helpfulQ: 'Cette réponse vous a-t-elle aidé ?', up: 'Utile', down: 'Pas utile', thanks: 'Merci pour votre avis.',
      feedbackFail: 'Avis non envoyé : ', stopped: 'Arrêté.', retry: 'Réessayer', wrong: 'Une erreur est survenue.',
      retryIn: 'Vous pourrez réessayer dans {n} secondes.', retryIn1: 'Vous pourrez réessayer dans 1 seconde.',
      unreachable: 'L’assistant est injoignable pour le moment.', offline: 'Vous êtes hors ligne. Vérifiez la connexion, puis réessayez.',
      interrupted: 'La réponse a été interrompue.', unfinished: 'La réponse n’est pas terminée.',
      unsaved: 'Cette réponse n’a pas pu être enregistrée dans votre historique.',
      noHistory: 'La conversation précédente ne peut pas être chargée pour le moment.', incomplete: 'Réponse incomplète ({n}).',
      http: 'L’assistant est indisponible (HTTP {n}).', answer: 'Réponse : ', jump: 'Aller à la fin',
      askThis: 'Demander à ce sujet', askCode: 'Demander à propos de ce code', unquote: 'Retirer la citation',
      quoted: 'Citation ajoutée. Tapez votre question.', starters: 'Questions suggérées',
    },
    es: {
      title: 'Pregunta a la documentación', greeting: '¡Hola! Pregúntame lo que quieras sobre esta documentación.',
      open: 'Abrir el chat', close: 'Cerrar el chat', closeHint: 'Cerrar (Esc)', newChat: 'Nueva conversación', log: 'Conversación',
      input: 'Tu pregunta', placeholder: 'Haz una pregunta sobre la documentación…', send: 'Enviar', stop: 'Detener la respuesta',
      typing: 'El asistente está escribiendo', copy: 'Copiar', copyCode: 'Copiar el código', copied: 'Copiado',
      copyFail: 'Selecciona y copia', sources: 'Fuentes', helpfulQ: '¿Te ha sido útil?', up: 'Útil', down: 'No es útil',
      thanks: 'Gracias por tu opinión.', feedbackFail: 'Opinión no enviada: ', stopped: 'Detenido.', retry: 'Reintentar',
      wrong: 'Algo salió mal.', retryIn: 'Puedes reintentar dentro de {n} segundos.', retryIn1: 'Puedes reintentar dentro de 1 segundo.',
      unreachable: 'No se puede contactar con el asistente ahora mismo.', offline: 'Estás sin conexión. Revisa la conexión y reintenta.',
      interrupted: 'La respuesta se interrumpió.', unfinished: 'La respuesta no terminó.',
      unsaved: 'Esta respuesta no se pudo guardar en tu historial.', noHistory: 'La conversación anterior no se puede cargar ahora mismo.',
      incomplete: 'Respuesta incompleta ({n}).', http: 'El asistente no está disponible (HTTP {n}).', answer: 'Respuesta: ',
      jump: 'Ir al final', askThis: 'Preguntar sobre esto', askCode: 'Preguntar sobre este código', unquote: 'Quitar la cita',
      quoted: 'Cita añadida. Escribe tu pregunta.', starters: 'Preguntas sugeridas',
    },
  };
  const localeStrings = (lang, override) => {
    lang = String(lang || 'en').toLowerCase();
    const base = lang.split('-')[0];
    let o = {};
    try {
      o = JSON.parse(override || '{}') || {};
    } catch (e) { /* a broken override falls back to the bundled strings */ }
    const flat = {};
    for (const k in o) if (typeof o[k] === 'string') flat[k] = o[k];
    const obj = (v) => (v && typeof v === 'object' ? v : {});
    return { ...STRINGS.en, ...STRINGS[base], ...obj(o[base]), ...obj(o[lang]), ...flat };
  };

  // ---- The element ---------------------------------------------------------------------

  const ICON_CHAT = 'M21 12a8 8 0 0 1-11.6 7.1L4 20l1-4.6A8 8 0 1 1 21 12z';
  const ICON_CLOSE = 'M6 6l12 12M18 6L6 18';
  const CONTEXT_MAX = 2000; // the server's default CHAT_MAX_CONTEXT_CHARS
  const clip = (s, n) => (s.length > n ? s.slice(0, n - 1) + '…' : s);
  const OFF = /^(off|none|false|no)$/i;

  // Styles go in a constructed stylesheet, which a docs site's CSP allows without
  // 'unsafe-inline' (a <style> element is the fallback for older browsers).
  const CSS = `
:host{all:initial;--dc-accent:#1a56db;--dc-on-accent:#fff;--dc-bg:#fff;--dc-fg:#1c1e21;--dc-muted:#51575f;
--dc-border:#d0d5dc;--dc-surface:#f2f4f7;--dc-link:#1747b5;--dc-code-bg:#f1f3f5;--dc-error:#b42318;
--dc-focus:#1a56db;--dc-radius:14px;--dc-font:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;
--dc-z:2147483000;--dc-shadow:0 12px 40px rgba(15,23,42,.22);--dc-offset:20px}
:host([theme=dark]){--dc-bg:#1f2024;--dc-fg:#e6e7ea;--dc-muted:#aab0b8;--dc-border:#3b3f46;--dc-surface:#2a2c31;
--dc-link:#8ab4f8;--dc-code-bg:#15161a;--dc-error:#ff9c94;--dc-focus:#8ab4f8;--dc-shadow:0 12px 40px rgba(0,0,0,.6)}
*{box-sizing:border-box}
[hidden]{display:none!important}
button,textarea{font:inherit;color:inherit}
:focus-visible{outline:2px solid var(--dc-focus);outline-offset:2px}
.launcher{position:fixed;bottom:calc(var(--dc-offset) + var(--dc-lift,0px));right:var(--dc-offset);z-index:var(--dc-z);width:56px;height:56px;
border-radius:50%;border:0;cursor:pointer;background:var(--dc-accent);color:var(--dc-on-accent);
box-shadow:var(--dc-shadow);display:grid;place-items:center;transition:transform .15s}
.launcher:hover{transform:scale(1.06)}
.launcher svg{width:26px;height:26px}
.panel{position:fixed;bottom:calc(var(--dc-offset) + var(--dc-lift,0px) + 68px);right:var(--dc-offset);z-index:var(--dc-z);
width:min(400px,calc(100vw - 2*var(--dc-offset)));height:min(620px,calc(100vh - 110px - var(--dc-lift,0px)));display:flex;
flex-direction:column;background:var(--dc-bg);color:var(--dc-fg);font:15px/1.5 var(--dc-font);
border:1px solid var(--dc-border);border-radius:var(--dc-radius);box-shadow:var(--dc-shadow);overflow:hidden;
animation:pop .18s ease-out}
:host([position=bottom-left]) .launcher,:host([position=bottom-left]) .panel{right:auto;left:var(--dc-offset)}
.scroll{position:relative;flex:1;min-height:0;display:flex;flex-direction:column}
@keyframes pop{from{opacity:0;transform:translateY(12px) scale(.98)}}
header{display:flex;align-items:center;gap:4px;padding:10px 10px 10px 16px;border-bottom:1px solid var(--dc-border)}
h2{flex:1;margin:0;font-size:16px;font-weight:600;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
.icon{display:inline-flex;align-items:center;gap:4px;border:0;background:none;border-radius:8px;padding:6px;cursor:pointer;color:var(--dc-muted)}
.icon:hover{background:var(--dc-surface);color:var(--dc-fg)}
.log{flex:1;min-height:0;overflow-y:auto;padding:16px;display:flex;flex-direction:column;gap:14px;overscroll-behavior:contain}
.msg{max-width:100%;overflow-wrap:anywhere}
.user{align-self:flex-end;max-width:85%;background:var(--dc-accent);color:var(--dc-on-accent);padding:8px 12px;
border-radius:14px 14px 4px 14px;white-space:pre-wrap}
.bot .md>:first-child{margin-top:0}.bot .md>:last-child{margin-bottom:0}
.md p,.md ul,.md ol,.md blockquote,.md .code,.md .table{margin:0 0 10px}
.md ul,.md ol{padding-left:22px}
.md h3,.md h4,.md h5,.md h6{margin:12px 0 6px;font-size:15px}
.md a{color:var(--dc-link)}
.md code{font:13px/1.45 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;background:var(--dc-code-bg);padding:1px 4px;border-radius:4px}
.md .code{background:var(--dc-code-bg);border:1px solid var(--dc-border);border-radius:8px}
.md pre{margin:0;padding:12px;overflow-x:auto}.md pre code{padding:0;background:none}
.bar{display:flex;justify-content:space-between;align-items:center;padding:3px 6px 3px 12px;font-size:12px;
color:var(--dc-muted);border-bottom:1px solid var(--dc-border)}
.copy{font-size:12px;padding:1px 8px;border:1px solid var(--dc-border);border-radius:6px;background:var(--dc-bg);
color:var(--dc-muted);cursor:pointer}
.md .table{overflow-x:auto}
.md table{border-collapse:collapse;font-size:14px}
.md th,.md td{border:1px solid var(--dc-border);padding:4px 8px;text-align:left;vertical-align:top}
.md blockquote{border-left:3px solid var(--dc-border);padding-left:10px;color:var(--dc-muted)}
.md hr{border:0;border-top:1px solid var(--dc-border)}
.cite{font-size:12px;text-decoration:none;vertical-align:super}
.sources{margin-top:10px;padding-top:8px;border-top:1px solid var(--dc-border);font-size:13px;color:var(--dc-muted)}
.sources ol{margin:2px 0 0;padding:0;list-style:none}.sources li{margin:2px 0}.sources a{color:var(--dc-link)}
.label{font-weight:600;text-transform:uppercase;font-size:11px;letter-spacing:.04em}
.meta{display:flex;align-items:center;gap:2px;margin-top:6px;color:var(--dc-muted);font-size:13px}
.meta .icon{padding:4px}.meta .icon[aria-pressed=true]{color:var(--dc-accent);background:var(--dc-surface)}
:host([theme=dark]) .meta .icon[aria-pressed=true]{color:var(--dc-link)}
.user .q{display:block;margin-bottom:4px;padding-left:8px;border-left:3px solid currentColor;opacity:.85;font-size:13px}
.quote{display:flex;align-items:center;gap:6px;margin:0 10px;padding:4px 4px 4px 10px;border-left:3px solid var(--dc-accent);background:var(--dc-surface);font-size:13px;color:var(--dc-muted)}.quote span{flex:1;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
.jump,.askbtn{border:1px solid var(--dc-border);border-radius:16px;padding:6px 14px;cursor:pointer;background:var(--dc-bg);color:var(--dc-fg);box-shadow:var(--dc-shadow);font:13px/1.2 var(--dc-font)}
.jump{position:absolute;bottom:10px;left:50%;transform:translateX(-50%)}
.askbtn{position:fixed;z-index:var(--dc-z);background:var(--dc-accent);color:var(--dc-on-accent);border:0}
.note{font-size:13px;color:var(--dc-muted);margin-top:6px}
.error{margin-top:8px;padding:8px 10px;border:1px solid var(--dc-error);border-radius:8px;color:var(--dc-error);font-size:14px}
.error button,.starters button{margin-top:6px;margin-right:6px;padding:4px 12px;border-radius:16px;cursor:pointer;
border:1px solid var(--dc-border);background:var(--dc-surface);color:var(--dc-fg)}
.error button:disabled{opacity:.6;cursor:default}
.starters{display:flex;flex-wrap:wrap;gap:0 2px;margin-top:4px}
.starters button{text-align:left}
.typing{display:inline-flex;gap:4px;padding:6px 0}
.typing i{width:7px;height:7px;border-radius:50%;background:var(--dc-muted);animation:blink 1.2s infinite both}
.typing i:nth-child(2){animation-delay:.2s}.typing i:nth-child(3){animation-delay:.4s}
@keyframes blink{0%,80%,100%{opacity:.25}40%{opacity:1}}
form{display:flex;align-items:flex-end;gap:8px;padding:10px;border-top:1px solid var(--dc-border)}
textarea{flex:1;resize:none;min-height:40px;max-height:160px;padding:8px 10px;border:1px solid var(--dc-border);
border-radius:10px;background:var(--dc-bg);line-height:1.4}
textarea::placeholder{color:var(--dc-muted);opacity:1}
form button{flex:none;width:40px;height:40px;border-radius:10px;border:0;cursor:pointer;background:var(--dc-accent);
color:var(--dc-on-accent);display:grid;place-items:center}
form button:disabled{opacity:.55;cursor:default}
.sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
@media (max-width:600px){.panel{inset:0;width:100%;height:100%;max-height:none;border:0;border-radius:0}
.icon,.copy,.jump,.askbtn,.starters button,.error button{min-width:44px;min-height:44px;justify-content:center}
form button{width:44px;height:44px}
:host([open]) .launcher{display:none}}
@media (prefers-reduced-motion:reduce){*,*::before,*::after{animation:none!important;transition:none!important}}`;
  let sheet = null;
  try {
    sheet = new CSSStyleSheet();
    sheet.replaceSync(CSS);
  } catch (e) {
    sheet = null;
  }

  /** The fixed markup, in the reader's language. */
  const markup = (t) => {
    const btn = (props, ...kids) => h('button', { type: 'button', ...props }, ...kids);
    return [
      btn({ class: 'launcher', part: 'bubble', 'aria-label': t.open, 'aria-expanded': 'false', 'aria-controls': 'panel' }, icon(ICON_CHAT)),
      h('section', { class: 'panel', id: 'panel', part: 'panel', role: 'dialog', 'aria-labelledby': 'title', hidden: true },
        h('header', { part: 'header' }, h('h2', { id: 'title', part: 'title' }),
          btn({ class: 'icon', 'data-act': 'new', part: 'new-button', 'aria-label': t.newChat, title: t.newChat }, icon('M12 5v14M5 12h14')),
          btn({ class: 'icon', 'data-act': 'close', part: 'close-button', 'aria-label': t.close, title: t.closeHint }, icon(ICON_CLOSE))),
        h('div', { class: 'scroll' },
          h('div', { class: 'log', part: 'messages', tabindex: '0', 'aria-label': t.log }),
          btn({ class: 'jump', part: 'jump', 'data-act': 'jump', hidden: true }, t.jump)),
        h('div', { class: 'sr', 'aria-live': 'polite', 'data-live': '' }),
        h('div', { class: 'quote', part: 'quote', hidden: true }, h('span'),
          btn({ class: 'icon', 'data-act': 'unquote', 'aria-label': t.unquote, title: t.unquote }, icon(ICON_CLOSE))),
        h('form', { part: 'composer' },
          h('textarea', { rows: '1', part: 'input', 'aria-label': t.input, placeholder: t.placeholder }),
          h('button', { type: 'submit', part: 'send', 'aria-label': t.send }, icon('M5 12h14M13 6l6 6-6 6')),
          btn({ part: 'stop', 'data-act': 'stop', 'aria-label': t.stop, hidden: true }, icon('M7 7h10v10H7z')))),
      btn({ class: 'askbtn', part: 'ask-button', 'data-act': 'ask-about', hidden: true }, t.askThis),
    ];
  };

  // Storage can be disabled (privacy settings, sandboxed frames): then nothing is remembered.
  const area = (tab) => (tab ? sessionStorage : localStorage);
  const store = {
    get: (k, tab) => { try { return area(tab).getItem(k); } catch (e) { return null; } },
    set: (k, v, tab) => { try { v == null ? area(tab).removeItem(k) : area(tab).setItem(k, v); } catch (e) { /* ignored */ } },
  };
  let uid = 0;
  const rid = () => Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join('');
  const luminance = (hex) => {
    const m = /^#?([\da-f]{6}|[\da-f]{3})$/i.exec(hex || '');
    if (!m) return null;
    const s = m[1].length === 3 ? m[1].replace(/./g, '$&$&') : m[1];
    const [r, g, b] = [0, 2, 4].map((i) => {
      const c = parseInt(s.slice(i, i + 2), 16) / 255;
      return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  /** The focused element, looking inside shadow roots. */
  const deepActive = () => {
    let a = document.activeElement;
    while (a && a.shadowRoot && a.shadowRoot.activeElement) a = a.shadowRoot.activeElement;
    return a;
  };
  const isTyping = (el) => !!el && (el.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName));

  class DocsChat extends HTMLElement {
    static get observedAttributes() { return ['chat-title', 'accent', 'position', 'api']; }

    constructor() {
      super();
      const root = this.attachShadow({ mode: 'open' });
      if (sheet) root.adoptedStyleSheets = [sheet];
      else root.append(h('style', null, CSS));
      this.busy = null;
      this.loaded = false;
      this.pending = null; // page text quoted with the next question
      this.following = false;
      this.lastTop = 0;
      for (const k of ['onKey', 'onClick', 'onSubmit', 'onInput', 'syncTheme', 'onDocKey', 'onSelection', 'onPointer', 'onViewport', 'onScroll']) {
        this[k] = this[k].bind(this);
      }
    }

    /** Built on first connection, not in the constructor: the `lang` and `strings` attributes
     * a page sets right after creating the element decide the language. */
    build() {
      const root = this.shadowRoot;
      this.t = localeStrings(this.getAttribute('lang') || document.documentElement.lang, this.getAttribute('strings'));
      root.append(...markup(this.t));
      const $ = (s) => root.querySelector(s);
      this.$ = {
        launcher: $('.launcher'), panel: $('.panel'), title: $('h2'), log: $('.log'), live: $('[data-live]'),
        form: $('form'), input: $('textarea'), send: $('[part=send]'), stop: $('[data-act=stop]'), jump: $('.jump'),
        quote: $('.quote'), ask: $('.askbtn'),
      };
    }

    get api() { return (this.getAttribute('api') || location.origin).replace(/\/+$/, ''); }
    set api(v) { this.setAttribute('api', v); }
    get key() { return 'docs-chat:' + this.api; }
    get sessionId() { return store.get(this.key + ':session'); }
    set sessionId(v) { store.set(this.key + ':session', v); }
    get open() { return this.hasAttribute('open'); }
    set open(v) { v ? this.show() : this.hide(); }
    /** Origins a link in an answer may point to: this page's, the chat server's (plus, in
     * `markdown`, the answer's own sources). */
    get origins() { return [location.origin, new URL(this.api, location.href).origin]; }

    connectedCallback() {
      if (!this.$) this.build();
      const root = this.shadowRoot;
      root.addEventListener('keydown', this.onKey);
      root.addEventListener('click', this.onClick);
      root.addEventListener('mousedown', this.onPointer);
      this.$.form.addEventListener('submit', this.onSubmit);
      this.$.input.addEventListener('input', this.onInput);
      this.$.log.addEventListener('scroll', this.onScroll, { passive: true });
      document.addEventListener('keydown', this.onDocKey);
      document.addEventListener('selectionchange', this.onSelection);
      document.addEventListener('pointerover', this.onPointer, { passive: true });
      document.addEventListener('focusin', this.onPointer);
      addEventListener('scroll', this.onViewport, { passive: true, capture: true });
      addEventListener('resize', this.onViewport, { passive: true });
      this.themeObserver = new MutationObserver(this.syncTheme);
      this.themeObserver.observe(document.documentElement, { attributes: true, attributeFilter: ['data-theme', 'class'] });
      this.syncTheme();
      this.render();
      this.avoid();
      // Again once a single-page app has rendered its own fixed controls.
      setTimeout(() => this.avoid(), 1000);
      if (!this.loaded) {
        this.loaded = true;
        this.$.input.value = store.get(this.key + ':draft') || '';
        const loading = this.loadHistory();
        if (store.get(this.key + ':open', true)) this.show(false);
        // A docs link with ?ask=<question> opens the panel and asks it (once: the parameter
        // is removed from the address, so a reload does not ask again).
        const url = new URL(location.href);
        const question = (url.searchParams.get('ask') || '').trim();
        if (question) {
          url.searchParams.delete('ask');
          window.history.replaceState(window.history.state, '', url.href);
          loading.then(() => this.ask(question));
        }
      }
    }

    disconnectedCallback() {
      const root = this.shadowRoot;
      root.removeEventListener('keydown', this.onKey);
      root.removeEventListener('click', this.onClick);
      root.removeEventListener('mousedown', this.onPointer);
      this.$.form.removeEventListener('submit', this.onSubmit);
      this.$.input.removeEventListener('input', this.onInput);
      this.$.log.removeEventListener('scroll', this.onScroll);
      document.removeEventListener('keydown', this.onDocKey);
      document.removeEventListener('selectionchange', this.onSelection);
      document.removeEventListener('pointerover', this.onPointer);
      document.removeEventListener('focusin', this.onPointer);
      removeEventListener('scroll', this.onViewport, { capture: true });
      removeEventListener('resize', this.onViewport);
      this.themeObserver.disconnect();
    }

    attributeChangedCallback() { if (this.isConnected && this.$) this.render(); }

    render() {
      const title = this.getAttribute('chat-title') || this.t.title;
      this.$.title.textContent = title;
      this.$.panel.setAttribute('aria-label', title);
      const accent = this.getAttribute('accent');
      if (accent) {
        this.style.setProperty('--dc-accent', accent);
        const l = luminance(accent);
        // Pick the text colour on the accent that keeps contrast >= 4.5:1.
        if (l != null) this.style.setProperty('--dc-on-accent', (l + 0.05) / 0.05 > 1.05 / (l + 0.05) ? '#111' : '#fff');
      }
      const key = this.shortcut;
      this.$.launcher.setAttribute('aria-keyshortcuts', key ? `Control+${key.toUpperCase()} Meta+${key.toUpperCase()}` : '');
      this.$.ask.setAttribute('aria-keyshortcuts', this.$.launcher.getAttribute('aria-keyshortcuts'));
    }

    syncTheme() {
      const html = document.documentElement;
      const dark = html.getAttribute('data-theme') === 'dark' || html.classList.contains('dark') ||
        (!html.hasAttribute('data-theme') && matchMedia('(prefers-color-scheme: dark)').matches);
      this.setAttribute('theme', dark ? 'dark' : 'light');
    }

    /** Lift the bubble above fixed controls in its corner (Docusaurus's back-to-top button,
     * cookie or feedback buttons) so it never covers them. */
    avoid() {
      const left = this.getAttribute('position') === 'bottom-left';
      const W = document.documentElement.clientWidth;
      const H = document.documentElement.clientHeight;
      const offset = parseFloat(getComputedStyle(this.$.launcher).right) || 20;
      let lift = 0;
      const consider = (el) => {
        if (!el || el === this || el === document.body || el === document.documentElement || this.contains(el)) return;
        const cs = getComputedStyle(el);
        if (cs.position !== 'fixed') return;
        // offsetHeight and `bottom` ignore transforms: a hidden, scaled-down back-to-top
        // button counts at its full size, so the bubble does not jump when it appears.
        const above = (parseFloat(cs.bottom) || 0) + el.offsetHeight;
        if (above < H * 0.4) lift = Math.max(lift, above + 12 - offset);
      };
      consider(document.querySelector('.theme-back-to-top-button'));
      for (const dx of [8, 28, 48]) {
        for (const dy of [8, 28, 48]) {
          for (const el of document.elementsFromPoint(left ? offset + dx : W - offset - dx, H - offset - dy)) consider(el);
        }
      }
      this.style.setProperty('--dc-lift', Math.max(0, lift) + 'px');
    }

    onViewport() {
      if (this.viewportFrame) return;
      this.viewportFrame = requestAnimationFrame(() => {
        this.viewportFrame = 0;
        this.avoid();
        this.placeAsk();
      });
    }

    emit(name, detail) {
      this.dispatchEvent(new CustomEvent('docs-chat:' + name, { detail, bubbles: true, composed: true }));
    }

    show(focus = true) {
      this.$.panel.hidden = false;
      this.$.launcher.replaceChildren(icon(ICON_CLOSE));
      this.setAttribute('open', '');
      this.$.launcher.setAttribute('aria-expanded', 'true');
      this.$.launcher.setAttribute('aria-label', this.t.close);
      store.set(this.key + ':open', '1', true);
      if (!this.$.log.childElementCount) this.showWelcome();
      this.toEnd();
      if (focus) this.$.input.focus();
      this.emit('open');
    }

    hide() {
      const hadFocus = this.shadowRoot.activeElement;
      this.$.panel.hidden = true;
      this.$.launcher.replaceChildren(icon(ICON_CHAT));
      this.removeAttribute('open');
      this.$.launcher.setAttribute('aria-expanded', 'false');
      this.$.launcher.setAttribute('aria-label', this.t.open);
      store.set(this.key + ':open', null, true);
      if (hadFocus) this.$.launcher.focus();
      this.emit('close');
    }

    onKey(e) {
      if (e.key === 'Escape' && this.open) {
        e.preventDefault();
        this.hide();
      } else if (e.key === 'Enter' && e.target === this.$.input && !e.shiftKey && !e.isComposing) {
        e.preventDefault();
        this.onSubmit();
      }
    }

    get shortcut() {
      const key = this.getAttribute('shortcut') || 'i';
      return OFF.test(key) ? null : key.toLowerCase();
    }

    /** Ctrl/Cmd+<shortcut> anywhere on the page (not while typing in a field) opens the panel;
     * with text selected in the article, or a code block focused, it asks about that. */
    onDocKey(e) {
      const key = this.shortcut;
      if (!key || !(e.ctrlKey || e.metaKey) || e.altKey || e.shiftKey || (e.key || '').toLowerCase() !== key) return;
      const active = deepActive();
      if (isTyping(active)) return;
      e.preventDefault();
      const code = active && active.closest && this.inScope(active) && active.closest('pre');
      const about = this.selected() || (code && code.innerText);
      this.show();
      if (about) this.quote(about);
    }

    /** Where "Ask about this" is offered: the `selection` attribute (a CSS selector, or "off"). */
    inScope(node) {
      const scope = this.getAttribute('selection') || 'article, main, [role=main]';
      const el = node && (node.nodeType === 1 ? node : node.parentElement);
      return !OFF.test(scope) && !!el && !this.contains(el) && !!el.closest(scope);
    }

    /** The text selected in the article, or null. */
    selected() {
      const sel = getSelection();
      if (!sel || sel.isCollapsed || !sel.rangeCount || !this.inScope(sel.anchorNode)) return null;
      return sel.toString().trim() || null;
    }

    onSelection() {
      clearTimeout(this.selTimer);
      this.selTimer = setTimeout(() => {
        const text = this.selected();
        this.about = text ? { text, rect: () => getSelection().rangeCount && getSelection().getRangeAt(0).getBoundingClientRect(), label: this.t.askThis } : null;
        this.placeAsk();
      }, 150);
    }

    /** Code blocks in the article get an "Ask" button while hovered or focused. */
    onPointer(e) {
      if (e.type === 'mousedown') {
        // Keep the page's selection when the "Ask about this" button is pressed.
        if (e.target === this.$.ask) e.preventDefault();
        return;
      }
      const target = e.composedPath ? e.composedPath()[0] : e.target;
      if (target === this || target === this.$.ask || this.selected()) return;
      const pre = target && target.closest && this.inScope(target) ? target.closest('pre') : null;
      if (pre) this.about = { text: pre.innerText, rect: () => pre.getBoundingClientRect(), label: this.t.askCode, code: true };
      else if (this.about && this.about.code) this.about = null;
      this.placeAsk();
    }

    /** Show the floating ask button next to the selection (below it) or code block (its corner). */
    placeAsk() {
      const btn = this.$.ask;
      const r = this.about && this.about.rect();
      if (!r || r.bottom < 0 || r.top > innerHeight || (!r.width && !r.height)) {
        btn.hidden = true;
        return;
      }
      btn.textContent = this.about.label;
      btn.hidden = false;
      const w = btn.offsetWidth;
      const hgt = btn.offsetHeight;
      let top = this.about.code ? r.bottom - hgt - 8 : r.bottom + 8;
      if (top + hgt > innerHeight - 4) top = r.top - hgt - 8;
      const left = this.about.code ? r.right - w - 8 : r.left;
      btn.style.top = Math.max(4, top) + 'px';
      btn.style.left = Math.max(4, Math.min(left, document.documentElement.clientWidth - w - 4)) + 'px';
    }

    /** Quote page text with the next question (shown above the input, removable). */
    quote(text) {
      this.pending = text ? clip(text.trim(), CONTEXT_MAX) : null;
      this.$.quote.hidden = !this.pending;
      this.$.quote.firstChild.textContent = this.pending ? '“' + clip(this.pending.replace(/\s+/g, ' '), 160) + '”' : '';
      if (this.pending) {
        this.$.live.textContent = this.t.quoted;
        this.$.input.focus();
      }
    }

    onClick(e) {
      const btn = e.target.closest('button');
      if (!btn) return;
      const act = btn.dataset.act;
      if (btn === this.$.launcher) this.open ? this.hide() : this.show();
      else if (act === 'close') this.hide();
      else if (act === 'stop') this.busy && this.busy.abort();
      else if (act === 'new') this.reset();
      else if (act === 'jump') this.toEnd();
      else if (act === 'unquote') this.quote(null);
      else if (act === 'ask-about' && this.about) {
        const text = this.about.text;
        this.about = null;
        btn.hidden = true;
        this.show();
        this.quote(text);
      }
    }

    onInput() {
      const input = this.$.input;
      store.set(this.key + ':draft', input.value || null);
      input.style.height = 'auto';
      input.style.height = Math.min(input.scrollHeight + 2, 160) + 'px';
    }

    onSubmit(e) {
      if (e) e.preventDefault();
      const text = this.$.input.value.trim();
      if (!text || this.busy) return;
      this.$.input.value = '';
      this.onInput();
      this.$.input.focus();
      const context = this.pending;
      this.quote(null);
      this.ask(text, null, context);
    }

    /** Start a fresh conversation (a new server session on the next question). */
    reset() {
      if (this.busy) this.busy.abort();
      this.sessionId = null;
      this.$.log.replaceChildren();
      this.showWelcome();
      this.$.input.focus();
      this.emit('reset');
    }

    showWelcome() {
      const greeting = this.getAttribute('greeting') || this.t.greeting;
      const el = h('div', { class: 'msg bot welcome', part: 'message assistant-message' },
        h('div', { class: 'md' }, toDom(markdown(greeting, [], location.href, this.origins), this.t)));
      this.$.log.append(el);
      let starters = this.getAttribute('starters') || '';
      if (OFF.test(starters)) return;
      try {
        starters = starters.trim().startsWith('[') ? JSON.parse(starters) : starters.split('|');
      } catch (e) {
        starters = [];
      }
      starters = starters.map((s) => String(s).trim()).filter(Boolean);
      if (starters.length) return this.addStarters(el, starters);
      // None configured: the questions readers ask most, when the server has enough of them.
      this.serverStarters = this.serverStarters || this.request('/chat/starters')
        .then((res) => (res.ok ? res.json() : {})).then((d) => d.starters || []).catch(() => []);
      this.serverStarters.then((list) => el.isConnected && list.length && this.addStarters(el, list));
    }

    addStarters(el, starters) {
      el.append(h('div', { class: 'starters', part: 'starters', role: 'group', 'aria-label': this.t.starters },
        ...starters.map((s) => h('button', { type: 'button', onclick: () => this.ask(s) }, s))));
    }

    // ---- Scrolling: a new question goes to the top of the log and its answer grows below
    // it. The view follows the text only when the reader has scrolled to the bottom
    // themselves; otherwise "Jump to latest" appears when text arrives out of view.

    setTop(top) {
      const log = this.$.log;
      log.scrollTop = top;
      this.lastTop = log.scrollTop;
    }

    atBottom() {
      const log = this.$.log;
      return log.scrollHeight - log.scrollTop - log.clientHeight < 24;
    }

    toEnd() {
      this.setTop(this.$.log.scrollHeight);
      this.following = true;
      this.$.jump.hidden = true;
    }

    onScroll() {
      // A scroll we did not make is the reader's: follow again only from the bottom.
      if (Math.abs(this.$.log.scrollTop - this.lastTop) > 2) this.following = this.atBottom();
      if (this.atBottom()) this.$.jump.hidden = true;
    }

    /** Scroll the least needed to show `el` (its top first when taller than the log). */
    reveal(el) {
      const log = this.$.log;
      const r = el.getBoundingClientRect();
      const l = log.getBoundingClientRect();
      if (r.bottom > l.bottom) this.setTop(log.scrollTop + Math.min(r.bottom - l.bottom + 12, r.top - l.top - 12));
      else if (r.top < l.top) this.setTop(log.scrollTop - (l.top - r.top) - 12);
    }

    /** Put the question at the top of the log; the answer below it gets the rest of the
     * height, so there is room to show it there even while it is short. */
    pin(question, bot) {
      const log = this.$.log;
      log.querySelectorAll('.bot').forEach((b) => (b.style.minHeight = ''));
      const pad = parseFloat(getComputedStyle(log).paddingTop) || 0;
      const room = log.clientHeight - 2 * pad - question.offsetHeight - (parseFloat(getComputedStyle(log).rowGap) || 0);
      bot.style.minHeight = Math.max(0, room) + 'px';
      this.following = false;
      this.setTop(question.getBoundingClientRect().top - log.getBoundingClientRect().top + log.scrollTop - pad);
    }

    addUser(text, context) {
      const welcome = this.$.log.querySelector('.welcome');
      if (welcome) welcome.remove();
      const el = h('div', { class: 'msg user', part: 'message user-message' },
        context ? h('span', { class: 'q' }, clip(context.replace(/\s+/g, ' '), 200)) : null, text);
      this.$.log.append(el);
      return el;
    }

    addBot(msg) {
      const el = h('div', { class: 'msg bot', part: 'message assistant-message' }, h('div', { class: 'md' }));
      this.$.log.append(el);
      if (msg) this.fillBot(el, msg);
      return el;
    }

    /** Render an assistant message: {content, sources, id, status, rating}. */
    fillBot(el, msg) {
      const t = this.t;
      const sources = msg.sources || [];
      const origins = this.origins;
      el.querySelector('.md').replaceChildren(toDom(markdown(msg.content, sources, location.href, origins), t));
      el.querySelectorAll('.sources, .meta, .state').forEach((n) => n.remove());
      if (msg.status && msg.status !== 'complete') el.append(h('p', { class: 'note state' }, t.incomplete.replace('{n}', msg.status)));
      // The sources the answer cites; when it cites none, the three best matches.
      const cited = new Set((String(msg.content || '').match(/\[\d{1,3}\]/g) || []).map((c) => +c.slice(1, -1)));
      let shown = sources.filter((s) => cited.has(s.n));
      if (!shown.length) shown = sources.slice(0, 3);
      const allowed = [...origins, ...sources.map((s) => originOf(s.url, location.href))];
      const links = shown.map((s) => [s, safeUrl(s.url, location.href, allowed)]).filter(([, url]) => url);
      if (links.length) {
        el.append(h('div', { class: 'sources', part: 'sources' }, h('span', { class: 'label', id: 'src' + (++uid) }, t.sources),
          h('ol', { 'aria-labelledby': 'src' + uid }, ...links.map(([s, url]) => {
            const page = s.heading && s.heading !== s.title ? ` · ${s.title}` : '';
            return h('li', null, `[${s.n}] `, toDom([{ t: 'a', href: url, c: [s.heading || s.title || url] }], t), page && h('span', null, page));
          }))));
      }
      if (msg.id) el.append(this.feedback(msg));
    }

    feedback(msg) {
      const t = this.t;
      const bar = h('div', { class: 'meta', part: 'feedback' }, h('span', { class: 'sr' }, t.helpfulQ));
      const note = h('span', { role: 'status' });
      const thumbs = { up: 'M7 10v11M3 10h4l4-8a2 2 0 0 1 2 2v5h6a2 2 0 0 1 2 2.3l-1.4 7A2 2 0 0 1 17.6 21H7', down: 'M17 14V3M21 14h-4l-4 8a2 2 0 0 1-2-2v-5H5a2 2 0 0 1-2-2.3l1.4-7A2 2 0 0 1 6.4 3H17' };
      for (const rating of ['up', 'down']) {
        const btn = h('button', {
          type: 'button', class: 'icon', 'aria-label': t[rating], title: t[rating],
          'aria-pressed': String(msg.rating === rating), 'data-rating': rating,
        }, icon(thumbs[rating]));
        btn.addEventListener('click', async () => {
          note.textContent = '';
          try {
            const res = await this.request('/chat/feedback', { session_id: this.sessionId, message_id: msg.id, rating });
            if (!res.ok) throw new Error((await this.errorOf(res)).message);
            await res.json();
            bar.querySelectorAll('[data-rating]').forEach((b) => b.setAttribute('aria-pressed', String(b === btn)));
            note.textContent = t.thanks;
          } catch (e) {
            note.textContent = t.feedbackFail + (e.message || 'network error');
          }
        });
        bar.append(btn);
      }
      bar.append(note);
      return bar;
    }

    request(path, body, signal) {
      return fetch(this.api + path, {
        method: body ? 'POST' : 'GET',
        headers: body ? { 'Content-Type': 'application/json', Accept: path === '/chat' ? 'text/event-stream' : 'application/json', 'X-Chat-Client': 'widget' } : { Accept: 'application/json' },
        body: body ? JSON.stringify(body) : undefined,
        credentials: 'omit',
        signal,
      });
    }

    async errorOf(res) {
      let err = {};
      try {
        err = (await res.json()).error || {};
      } catch (e) { /* not JSON */ }
      const after = parseInt(res.headers.get('Retry-After'), 10);
      return {
        code: err.code || 'http_' + res.status,
        message: err.message || this.t.http.replace('{n}', res.status),
        retryable: res.status === 429 || res.status >= 500 || err.code === 'answer_in_progress',
        retry_after: Number.isFinite(after) ? after : null,
        status: res.status,
      };
    }

    async loadHistory() {
      const id = this.sessionId;
      if (!id) return;
      const messages = [];
      let after = '';
      try {
        for (let page = 0; page < 20; page++) {
          const res = await this.request('/chat/history/' + encodeURIComponent(id) + '?limit=200' + (after ? '&after=' + after : ''));
          if (res.status >= 400 && res.status < 500 && res.status !== 429) {
            // Unknown, expired or malformed: forget it, the next question starts afresh.
            if (this.sessionId === id) this.sessionId = null;
            return;
          }
          if (!res.ok) throw new Error((await this.errorOf(res)).message);
          const data = await res.json();
          const batch = data.messages || data.results || [];
          messages.push(...batch);
          after = data.next;
          if (!after || !batch.length) break;
        }
      } catch (e) {
        this.$.log.append(h('p', { class: 'note', role: 'status' }, this.t.noHistory));
        return;
      }
      if (this.sessionId !== id || this.busy || !messages.length) return;
      this.$.log.replaceChildren();
      const questions = {};
      for (const m of messages) {
        if (m.role === 'user') {
          questions[m.id] = { text: m.content, cmid: m.client_message_id || rid(), el: this.addUser(m.content) };
        } else {
          const bot = this.addBot(m);
          const turn = questions[m.reply_to];
          // An answer that broke off can be retried later: same question id, same answer row.
          if (turn && m === messages[messages.length - 1] && m.status !== 'complete') {
            this.showError(bot, turn, { message: this.t.unfinished, retryable: true });
          }
        }
      }
      this.toEnd();
    }

    /** Ask a question, optionally about quoted page text; `turn` is given when retrying. */
    async ask(text, turn, context) {
      if (this.busy) return;
      if (!this.open) this.show();
      const t = this.t;
      turn = turn || { text, context, cmid: rid(), el: this.addUser(text, context) };
      if (!this.shadowRoot.activeElement || this.shadowRoot.activeElement.isConnected === false) this.$.input.focus();
      const bot = this.addBot();
      const md = bot.querySelector('.md');
      md.append(h('div', { class: 'typing', role: 'status', 'aria-label': t.typing }, h('i'), h('i'), h('i')));
      this.pin(turn.el, bot);
      const ctrl = new AbortController();
      this.busy = ctrl;
      this.$.stop.hidden = false;
      this.$.send.hidden = true;
      const msg = { content: '', sources: [], id: null };
      let finished = false;
      let frame = 0;
      const note = (text, props) => {
        const el = h('p', { class: 'note', ...props }, text);
        bot.append(el);
        this.reveal(el);
      };
      const paint = () => {
        frame = 0;
        this.fillBot(bot, msg);
        if (this.following) this.toEnd();
        else if (!this.atBottom()) this.$.jump.hidden = false;
      };
      const fail = (err) => {
        if (frame) cancelAnimationFrame(frame);
        if (msg.content) paint();
        else md.replaceChildren();
        this.showError(bot, turn, err);
      };
      try {
        const body = { message: turn.text, client_message_id: turn.cmid, page_url: location.href };
        if (turn.context) body.context = turn.context;
        if (this.sessionId) body.session_id = this.sessionId;
        const res = await this.request('/chat', body, ctrl.signal);
        if (!res.ok) {
          const err = await this.errorOf(res);
          if (res.status === 404 && body.session_id && !turn.retried) {
            // The stored session expired or was deleted: start a fresh one transparently.
            this.sessionId = null;
            bot.remove();
            this.busy = null;
            return this.ask(turn.text, { ...turn, retried: true });
          }
          return fail(err);
        }
        const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
        let buf = '';
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          let events;
          [events, buf] = sseParse(buf + value);
          for (const { event, data } of events) {
            const d = JSON.parse(data);
            if (event === 'session') d.session_id && (this.sessionId = d.session_id);
            else if (event === 'sources') msg.sources = d.sources || [];
            else if (event === 'notice') note(d.message, { role: 'status' });
            else if (event === 'delta') {
              msg.content += d.text;
              if (!frame) frame = requestAnimationFrame(paint);
            } else if (event === 'done') {
              finished = true;
              msg.id = d.message_id;
              if (frame) cancelAnimationFrame(frame);
              paint();
              if (d.history_saved === false) note(t.unsaved);
              this.$.live.textContent = t.answer + md.textContent.slice(0, 600);
              this.emit('answer', { message_id: d.message_id, refused: d.refused });
            } else if (event === 'error') {
              finished = true;
              fail(d);
            }
          }
        }
        if (!finished) fail({ code: 'interrupted', message: t.interrupted, retryable: true });
      } catch (e) {
        if (ctrl.signal.aborted) {
          if (frame) cancelAnimationFrame(frame);
          if (msg.content) paint();
          else md.replaceChildren();
          note(t.stopped, { role: 'status' });
        } else if (!navigator.onLine) {
          fail({ code: 'offline', message: t.offline, retryable: true });
        } else {
          fail({ code: 'network', message: t.unreachable, retryable: true });
        }
      } finally {
        const refocus = this.shadowRoot.activeElement === this.$.stop;
        this.busy = null;
        this.$.stop.hidden = true;
        this.$.send.hidden = false;
        if (refocus) this.$.input.focus();
      }
    }

    showError(bot, turn, err) {
      const t = this.t;
      let message = err.message || t.wrong;
      const wait = err.retry_after;
      if (wait) message += ' ' + (wait === 1 ? t.retryIn1 : t.retryIn.replace('{n}', wait));
      const retry = h('button', { type: 'button', part: 'retry', disabled: !!wait }, t.retry);
      retry.addEventListener('click', () => {
        bot.remove();
        // The same client_message_id: the server answers the stored question again, in the
        // same answer row, and never stores the question twice.
        this.ask(turn.text, turn);
      });
      if (wait) setTimeout(() => (retry.disabled = false), wait * 1000);
      const box = h('div', { class: 'error', role: 'alert', part: 'error' }, h('div', null, message));
      if (err.retryable !== false) box.append(retry);
      else if (!this.$.input.value) {
        // Not retryable (e.g. too long): give the text back so it can be edited.
        this.$.input.value = turn.text;
        this.onInput();
      }
      bot.append(box);
      this.reveal(box);
    }
  }

  if (!customElements.get('docs-chat')) customElements.define('docs-chat', DocsChat);

  // ---- Mounting ------------------------------------------------------------------------

  const script = document.currentScript;
  let el = null; // kept, so a re-attached widget is the same one, conversation and all
  const mount = () => {
    // Outside #__docusaurus, so React hydration and client-side navigation never remove it.
    el = el || document.querySelector('docs-chat');
    if (!el) {
      const cfg = { ...(window.DocsChatConfig || {}), ...(script ? script.dataset : {}) };
      el = document.createElement('docs-chat');
      const api = cfg.api || (script && script.src ? new URL(script.src, location.href).origin : location.origin);
      const json = (v) => (v && typeof v === 'object' ? JSON.stringify(v) : v);
      const attrs = { api, 'chat-title': cfg.title, greeting: cfg.greeting, accent: cfg.accent, position: cfg.position,
        starters: json(cfg.starters), strings: json(cfg.strings), lang: cfg.lang, shortcut: cfg.shortcut, selection: cfg.selection };
      for (const k in attrs) if (attrs[k]) el.setAttribute(k, attrs[k]);
    }
    if (!el.isConnected) document.body.append(el);
  };
  if (!window.__docsChatMounted) {
    window.__docsChatMounted = true;
    if (document.body) mount();
    else document.addEventListener('DOMContentLoaded', mount);
    // Single-page apps: re-attach if a router ever replaced <body>'s children.
    for (const k of ['pushState', 'replaceState']) {
      const orig = history[k];
      history[k] = function (...args) {
        const r = orig.apply(this, args);
        setTimeout(() => document.body && mount());
        return r;
      };
    }
    addEventListener('popstate', () => document.body && mount());
  }
})();
