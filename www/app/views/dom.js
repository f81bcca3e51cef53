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

/**
 * The element with `id`, which the page's markup has (a missing one is a bug in the
 * page, reported by name instead of as a null dereference later).
 * @template {HTMLElement} [T=HTMLElement]
 * @param {string} id
 * @param {new () => T} [type] the element's class, checked
 * @returns {T}
 */
export function byId(id, type) {
  const element = document.getElementById(id);
  if (!element) throw new Error(`the page has no #${id}`);
  if (type && !(element instanceof type)) throw new Error(`#${id} is not a ${type.name}`);
  return /** @type {T} */ (element);
}

/**
 * The first element under `root` matching `selector`, which the markup has.
 * @template {Element} [T=HTMLElement]
 * @param {ParentNode} root
 * @param {string} selector
 * @param {new () => T} [type] the element's class, checked
 * @returns {T}
 */
export function find(root, selector, type) {
  const element = root.querySelector(selector);
  if (!element) throw new Error(`the page has no ${selector}`);
  if (type && !(element instanceof type)) throw new Error(`${selector} is not a ${type.name}`);
  return /** @type {T} */ (element);
}
