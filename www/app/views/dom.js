// The one DOM helper the views share: elements built with DOM calls and text nodes
// only (never markup strings), so text from a run, a link or an imported file is shown
// as text.

/**
 * A new `tag` element with `attrs` set as attributes and `children` appended (strings
 * become text nodes).
 * @param {string} tag
 * @param {Record<string, string>} [attrs]
 * @param {...(Node | string)} children
 * @returns {HTMLElement}
 */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  node.append(...children);
  return node;
}
