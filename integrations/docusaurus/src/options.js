'use strict';
/**
 * Option checking for the plugin. Docusaurus calls `validateOptions` before the build; a bad
 * option stops the build with a message naming the option and what it should be, because a
 * typo here otherwise shows up much later as a chat widget that never loads.
 */

const PLUGIN = 'docusaurus-plugin-docs-chat';

const DEFAULTS = Object.freeze({
  server: undefined,
  scriptPath: '/static/chat/widget.js',
  integrity: undefined,
  manifest: true,
  outputPath: 'docs-chat/manifest.json',
  docsPluginIds: undefined,
  include: [],
  exclude: [],
  blog: false,
  pages: false,
});

class OptionError extends Error {
  constructor(option, message) {
    super(`[${PLUGIN}] option "${option}" ${message}`);
    this.name = 'OptionError';
    this.option = option;
  }
}

function isStringArray(value) {
  return Array.isArray(value) && value.every((v) => typeof v === 'string' && v.length > 0);
}

/** The options with defaults filled in; throws OptionError for anything wrong. */
function normalizeOptions(options = {}) {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new OptionError('(all)', 'must be an object like {server: "https://chat.example.com"}');
  }
  const known = new Set(Object.keys(DEFAULTS).concat(['id']));
  for (const key of Object.keys(options)) {
    if (!known.has(key)) {
      throw new OptionError(key, `is not an option of this plugin; known options: ${[...known].join(', ')}`);
    }
  }
  const out = { ...DEFAULTS, ...options };
  let server;
  try {
    server = new URL(out.server);
  } catch {
    throw new OptionError('server', `must be the chat server's address, like "https://chat.example.com" (got ${JSON.stringify(out.server)})`);
  }
  if (!['http:', 'https:'].includes(server.protocol) || server.search || server.hash || server.username) {
    throw new OptionError('server', `must be an http(s) address without query, fragment or credentials (got ${JSON.stringify(out.server)})`);
  }
  out.server = server.href.replace(/\/+$/, '');
  if (typeof out.scriptPath !== 'string' || !out.scriptPath.startsWith('/')) {
    throw new OptionError('scriptPath', `must be a path starting with "/" (got ${JSON.stringify(out.scriptPath)})`);
  }
  if (out.integrity !== undefined && (typeof out.integrity !== 'string' || !/^sha(256|384|512)-[A-Za-z0-9+/]+={0,2}$/.test(out.integrity))) {
    throw new OptionError('integrity', `must be a Subresource Integrity hash like "sha384-..." (got ${JSON.stringify(out.integrity)})`);
  }
  for (const key of ['manifest', 'blog', 'pages']) {
    if (typeof out[key] !== 'boolean') {
      throw new OptionError(key, `must be true or false (got ${JSON.stringify(out[key])})`);
    }
  }
  if (typeof out.outputPath !== 'string' || !out.outputPath.endsWith('.json') || out.outputPath.startsWith('/') || out.outputPath.split(/[\\/]/).includes('..')) {
    throw new OptionError('outputPath', `must be a relative path inside the build folder ending in .json (got ${JSON.stringify(out.outputPath)})`);
  }
  for (const key of ['include', 'exclude']) {
    if (!isStringArray(out[key])) {
      throw new OptionError(key, `must be a list of path patterns like ["/docs/**"] (got ${JSON.stringify(out[key])})`);
    }
  }
  if (out.docsPluginIds !== undefined && !isStringArray(out.docsPluginIds)) {
    throw new OptionError('docsPluginIds', `must be a list of docs plugin ids like ["default"] (got ${JSON.stringify(out.docsPluginIds)})`);
  }
  return out;
}

/** A path pattern ("/docs/**", "/docs/*.html") as a RegExp over the whole permalink. */
function patternToRegExp(pattern) {
  let re = '';
  for (let i = 0; i < pattern.length; i += 1) {
    const c = pattern[i];
    if (c === '*' && pattern[i + 1] === '*') {
      re += '.*';
      i += 1;
    } else if (c === '*') {
      re += '[^/]*';
    } else {
      re += c.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
    }
  }
  return new RegExp(`^${re}/?$`);
}

/** Whether a permalink passes include (empty = everything) and exclude. */
function pathFilter({ include, exclude }) {
  const inc = include.map(patternToRegExp);
  const exc = exclude.map(patternToRegExp);
  return (permalink) => (inc.length === 0 || inc.some((r) => r.test(permalink)))
    && !exc.some((r) => r.test(permalink));
}

module.exports = { PLUGIN, DEFAULTS, OptionError, normalizeOptions, pathFilter, patternToRegExp };
