"""Look and behaviour of the chat page: its theme, style sheet and the little JavaScript it needs.

The JavaScript only scrolls to a source card when a ``[n]`` marker is clicked and copies the
briefing note; everything the page shows comes escaped from ``ui.render``.
"""

from __future__ import annotations

import html

import gradio as gr

from ui.i18n import texts
from ui.web_text import TEXT

SYSTEM_FONTS = ("ui-sans-serif", "system-ui", "Segoe UI", "Helvetica Neue", "Arial", "sans-serif")
"""Local fonts only: the page must work on networks that cannot reach a font service."""


def theme() -> gr.themes.Base:
    """A sober theme: navy accents on white, system fonts, no rounded bubbles."""
    return gr.themes.Base(
        primary_hue=gr.themes.colors.blue,
        secondary_hue=gr.themes.colors.slate,
        neutral_hue=gr.themes.colors.slate,
        radius_size=gr.themes.sizes.radius_sm,
        font=SYSTEM_FONTS,
        font_mono=("ui-monospace", "SFMono-Regular", "Menlo", "Consolas", "monospace"),
    ).set(
        body_background_fill="#f6f7f9",
        block_background_fill="#ffffff",
        button_primary_background_fill="#1f3a5f",
        button_primary_background_fill_hover="#2b4c78",
        button_primary_text_color="#ffffff",
        block_border_width="1px",
        block_shadow="none",
        # WCAG AA: every text at least 4.5:1 against its background
        body_text_color="#0f172a",
        body_text_color_subdued="#475569",
        block_info_text_color="#475569",
        input_placeholder_color="#5b6573",
        block_label_text_color="#334155",
    )


def placeholder(lang: str) -> str:
    """What the empty chat shows above its example questions, in ``lang``."""
    words = texts(TEXT, lang)
    return (
        "<div class='lg-empty-chat'>"
        f"<p class='lg-empty-head'><strong>{html.escape(words['empty_head'])}</strong></p>"
        f"<p>{html.escape(words['empty_body'])} {html.escape(words['empty_lang'])}</p>"
        f"<p class='lg-examples-head'>{html.escape(words['examples'])}</p></div>"
    )


CSS = """
.gradio-container { max-width: 1480px !important; }
#lg-header { padding: 6px 2px 2px 2px; border-bottom: 2px solid #1f3a5f; margin-bottom: 6px; }
#lg-header .lg-brand { font-family: Georgia, Cambria, serif; font-size: 1.65rem; color: #1f3a5f;
  font-weight: 600; letter-spacing: .01em; }
#lg-header .lg-tagline { color: #475569; font-size: .95rem; margin-left: .75rem; }
#lg-header .lg-stats { float: right; color: #475569; font-size: .85rem; margin-top: .6rem; }
.lg-answer p, .lg-answer ul { margin: 0 0 .45em 0; line-height: 1.55; }
.lg-answer ul { padding-left: 1.3em; }
.lg-answer .lg-lead { color: #475569; font-style: italic; }
.lg-answer .lg-heading { color: #334155; font-weight: 600; font-size: 0.9em; margin-bottom: 0.2em; }
.lg-answer .lg-notice { color: #92400e; background: #fffbeb; border-left: 3px solid #f59e0b;
  padding: .35em .6em; font-size: .9em; }
.lg-answer.lg-error p { color: #991b1b; }
.lg-answer.lg-refused p { color: #334155; }
.lg-pending { color: #475569; font-style: italic; }
.lg-spinner { display: inline-block; width: .8em; height: .8em; margin-right: .5em;
  border: 2px solid #cbd5e1; border-top-color: #1f3a5f; border-radius: 50%;
  animation: lg-spin .8s linear infinite; vertical-align: -0.05em; }
@keyframes lg-spin { to { transform: rotate(360deg); } }
a.lg-cite { font-size: .78em; font-weight: 600; vertical-align: super; line-height: 0;
  color: #1d4ed8 !important; text-decoration: none !important; margin-left: 1px; cursor: pointer; }
a.lg-cite:hover { text-decoration: underline !important; }
.lg-question { white-space: pre-wrap; }
.lg-muted { color: #475569; font-style: italic; }
#lg-sources-bar { align-items: center; }
#lg-sources-bar .lg-section { margin: 0 !important; }
#lg-sources-box { max-height: calc(100vh - 320px); min-height: 360px;
  overflow-y: auto !important; padding-right: 6px; }
.lg-sources-head { position: sticky; top: 0; z-index: 1; background: #fff;
  padding: 2px 0 8px 0; margin-bottom: 6px; border-bottom: 1px solid #e2e8f0; }
.lg-sources-head .lg-label { display: block; text-transform: uppercase; letter-spacing: .06em;
  font-size: .72rem; color: #475569; font-weight: 600; }
.lg-sources-head .lg-q { display: block; font-weight: 600; color: #0f172a; margin-top: 2px; }
.lg-sources-head .lg-scope { display: block; font-size: .8rem; color: #475569; margin-top: 2px; }
.lg-empty p { color: #475569; font-size: .92rem; }
.lg-card { border: 1px solid #dbe1e8; border-left: 3px solid #1f3a5f; background: #fff;
  border-radius: 3px; padding: 9px 12px; margin: 0 0 10px 0; transition: box-shadow .3s; }
.lg-card.lg-uncited { border-left-color: #cbd5e1; }
.lg-card.lg-flash { box-shadow: 0 0 0 3px #93c5fd; }
.lg-card header { display: flex; gap: .5em; align-items: baseline; }
.lg-card .lg-n { font-weight: 700; color: #1d4ed8; }
.lg-card .lg-title { font-family: Georgia, Cambria, serif; font-weight: 600; color: #0f172a; }
.lg-card .lg-meta, .lg-index .lg-meta { display: block; font-size: .8rem; color: #475569;
  margin-top: 2px; }
.lg-card .lg-where { font-size: .82rem; color: #334155; margin-top: 1px; }
.lg-card .lg-text { margin: 7px 0 0 0; padding: 0 0 0 10px; border-left: 2px solid #e2e8f0;
  font-family: Georgia, Cambria, serif; font-size: .9rem; line-height: 1.5; color: #334155;
  white-space: pre-line; }
.lg-card mark { background: #fef08a; color: #0f172a; padding: 0 1px; }
.lg-others summary { cursor: pointer; color: #475569; font-size: .88rem; margin: 4px 0 8px 0; }
.lg-none { color: #475569; font-size: .92rem; }
.lg-index ul { list-style: none; padding: 0; margin: 0 0 6px 0; }
.lg-index li { padding: 6px 0; border-bottom: 1px solid #e2e8f0; font-size: .88rem; }
.lg-index .lg-title { font-family: Georgia, Cambria, serif; font-weight: 600; color: #0f172a; }
.lg-index .lg-new { display: inline-block; margin-right: 4px; padding: 0 5px; border-radius: 3px;
  background: #1e3a8a; color: #fff; font-size: .72rem; font-weight: 600; vertical-align: 1px; }
.lg-section { text-transform: uppercase; letter-spacing: .06em; font-size: .72rem !important;
  color: #475569 !important; font-weight: 600; margin: 10px 0 2px 0 !important; }
#lg-scope { font-size: .82rem; color: #475569; }
#lg-rate-status { font-size: .85rem; color: #166534; min-height: 1.2em; }
#lg-copy.lg-copied::after { content: " ✓"; }
/* Gradio's own footer speaks the browser's language, not the page's: hidden. */
footer { display: none !important; }
#lg-top { align-items: center; }
#lg-language { flex-grow: 0 !important; }
#lg-language .wrap { flex-wrap: nowrap; gap: 4px; }
#lg-language label { padding: 4px 10px; }
.lg-empty-chat { text-align: center; color: #334155; max-width: 34em; margin: auto; }
.lg-empty-chat .lg-empty-head { font-size: 1.05rem; color: #1f3a5f; }
.lg-examples-head { margin-top: 1em; font-weight: 600; }
.lg-answer-head { display: flex; gap: .6em; align-items: baseline; margin-bottom: .25em;
  font-size: .78rem; color: #475569; }
.lg-answer-no { font-weight: 700; text-transform: uppercase; letter-spacing: .05em; }
.lg-shown { color: #1d4ed8; font-weight: 600; }
.lg-turn.lg-selected { box-shadow: inset 3px 0 0 #1d4ed8; padding-left: 8px; }
button.lg-copy-answer { margin-left: auto; border: 1px solid #cbd5e1; background: #fff;
  color: #1f3a5f; border-radius: 3px; padding: 1px 8px; font-size: .78rem; cursor: pointer; }
button.lg-copy-answer.lg-copied::after { content: " ✓"; }
.lg-draft { color: #334155; white-space: pre-wrap; }
.lg-fn { font-size: .72em; color: #475569; vertical-align: super; line-height: 0;
  font-family: ui-sans-serif, system-ui, sans-serif; }
.lg-fn-line { display: block; font-size: .8rem; color: #475569;
  font-family: ui-sans-serif, system-ui, sans-serif; }
.lg-open-line { margin: 6px 0 0 0; }
.lg-card a.lg-open { display: inline-block; margin-top: 6px; font-size: .85rem;
  color: #1d4ed8; }
#lg-back { position: fixed; right: 12px; bottom: 16px; z-index: 50; display: none;
  background: #1f3a5f; color: #fff; border: 0; border-radius: 4px; padding: 10px 14px;
  font-size: .95rem; box-shadow: 0 2px 8px rgba(0,0,0,.25); }
#lg-back.lg-visible { display: block; }
a:focus-visible, button:focus-visible, textarea:focus-visible, input:focus-visible,
[tabindex]:focus-visible { outline: 3px solid #1d4ed8 !important; outline-offset: 2px; }
#lg-rating { margin-bottom: 8px; }
/* The scope sidebar's toggle: a full-size target, inside the screen. */
.sidebar .toggle-button { min-width: 44px; min-height: 44px; }
/* Phones and narrow windows: one column; the chat only as tall as its content needs. */
@media (max-width: 820px) {
  #lg-top { flex-wrap: wrap !important; padding-left: 48px; }
  #lg-top > div { min-width: 0 !important; }
  #lg-header { flex: 1 1 100% !important; }
  #lg-language { margin-top: 4px; }
  #lg-main { flex-direction: column !important; }
  #lg-main > div { min-width: 0 !important; width: 100% !important; }
  #lg-chat { height: auto !important; min-height: 220px !important; max-height: 62vh; }
  #lg-sources-box { max-height: none; min-height: 0; overflow-y: visible !important; }
  #lg-header .lg-tagline { display: none; }
  #lg-header .lg-stats { float: none; display: block; margin-top: 0; }
  .gradio-container { padding: 0 6px !important; }
  #lg-sources-bar { flex-wrap: wrap; }
}
"""

HEAD = """
<script>
(() => {
  const narrow = () => window.matchMedia("(max-width: 820px)").matches;
  const words = {
    en: { back: "↑ Back to the answer", copied: "Copied" },
    nl: { back: "↑ Terug naar het antwoord", copied: "Gekopieerd" },
  };
  const say = (key) => (words[document.documentElement.lang] || words.en)[key];
  let origin = null;  // the [n] a reader came from, to go back to on a phone
  const back = () => {
    let button = document.getElementById("lg-back");
    if (!button) {
      button = document.createElement("button");
      button.id = "lg-back";
      button.type = "button";
      button.addEventListener("click", () => {
        if (origin) {
          origin.scrollIntoView({ behavior: "smooth", block: "center" });
          origin.focus({ preventScroll: true });
        }
        button.classList.remove("lg-visible");
      });
      document.body.appendChild(button);
    }
    button.textContent = say("back");
    return button;
  };
  const flash = (card) => {
    const hit = card.querySelector("mark") || card;
    const box = card.closest("#lg-sources-box");
    const scrolls = box && box.scrollHeight > box.clientHeight + 2 && !narrow();
    if (scrolls) {
      // Scroll the source panel only, not the page around it, to the highlighted sentence.
      const head = box.querySelector(".lg-sources-head");
      const offset = (head ? head.offsetHeight : 0) + 10;
      const top = hit.getBoundingClientRect().top - box.getBoundingClientRect().top;
      const cardTop = card.getBoundingClientRect().top - box.getBoundingClientRect().top;
      const goal = hit === card || top - cardTop < box.clientHeight / 2 ? cardTop : top - 40;
      box.scrollTo({ top: box.scrollTop + goal - offset, behavior: "smooth" });
    } else {
      hit.scrollIntoView({ behavior: "smooth", block: "center" });
      if (narrow()) back().classList.add("lg-visible");
    }
    card.classList.add("lg-flash");
    setTimeout(() => card.classList.remove("lg-flash"), 1600);
  };
  document.addEventListener("click", (event) => {
    const target = event.target instanceof Element ? event.target : null;
    // [n] markers: show the card (the panel may first switch to that answer's sources).
    const link = target ? target.closest("a.lg-cite") : null;
    if (link) {
      event.preventDefault();
      origin = link;
      const id = (link.getAttribute("href") || "").slice(1);
      let tries = 0;
      const find = () => {
        const el = document.getElementById(id);
        if (el) flash(el);
        else if (tries++ < 50) setTimeout(find, 100);
      };
      find();
      return;
    }
    // Each answer's own copy button: its text with the citation numbers.
    const copy = target ? target.closest("button.lg-copy-answer") : null;
    if (copy) {
      event.preventDefault();
      event.stopPropagation();
      const answer = copy.closest(".lg-turn")?.querySelector(".lg-answer");
      const text = answer ? answer.innerText.trim() : "";
      const done = () => {
        copy.classList.add("lg-copied");
        copy.setAttribute("aria-label", say("copied"));
        setTimeout(() => copy.classList.remove("lg-copied"), 1500);
      };
      navigator.clipboard.writeText(text).then(done, done);
    }
  }, true);
  // A new answer's sources start at the top of the panel, not where the last ones were left.
  const watch = () => {
    const box = document.getElementById("lg-sources-box");
    if (!box) return setTimeout(watch, 200);
    let shown = "";
    new MutationObserver(() => {
      // The page patches the panel in place, so compare which answer it now shows.
      const head = box.querySelector(".lg-sources-head");
      const now = head ? head.textContent : "";
      if (now !== shown) box.scrollTop = 0;
      shown = now;
    }).observe(box, { childList: true, subtree: true, characterData: true });
  };
  watch();
  // <html lang> follows the interface language, which the title bar carries.
  const syncLang = () => {
    const mark = document.querySelector("#lg-header [data-lang]");
    const lang = mark ? mark.getAttribute("data-lang") : "";
    if (lang && document.documentElement.lang !== lang) document.documentElement.lang = lang;
    // Gradio marks the chat's example questions role="list" but fills it with buttons, which a
    // list may not hold (axe: aria-required-children); they are a group of choices.
    for (const el of document.querySelectorAll("#lg-chat .examples[role='list']")) {
      el.setAttribute("role", "group");
      const head = document.querySelector("#lg-chat .lg-examples-head");
      if (head) el.setAttribute("aria-label", head.textContent.trim());
    }
  };
  new MutationObserver(syncLang).observe(document.documentElement, {
    childList: true, subtree: true,
  });
  // On a phone the scope sidebar starts closed: the chat is what one comes for.
  const closeSidebar = (tries) => {
    const toggle = document.querySelector(".sidebar.open .toggle-button");
    if (toggle) toggle.click();
    else if (tries > 0) setTimeout(() => closeSidebar(tries - 1), 100);
  };
  const start = () => { if (narrow()) closeSidebar(100); };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
</script>
"""

# The question box starts disabled until the page has started (ui.web.build_app), which undoes its
# autofocus: once enabled, it takes the focus, unless the reader has put it somewhere already.
FOCUS_QUESTION_JS = """
() => {
  const focus = (tries) => {
    const box = document.querySelector("#lg-question textarea");
    const free = !document.activeElement || document.activeElement === document.body;
    if (box && !box.disabled) { if (free) box.focus(); }
    else if (tries > 0) setTimeout(() => focus(tries - 1), 50);
  };
  focus(40);
}
"""

COPY_JS = """
async (note) => {
  if (!note) return;
  try {
    await navigator.clipboard.writeText(note);
  } catch (e) {
    const area = document.createElement("textarea");
    area.value = note;
    document.body.appendChild(area);
    area.select();
    document.execCommand("copy");
    area.remove();
  }
  const button = document.getElementById("lg-copy");
  if (button) {
    button.classList.add("lg-copied");
    setTimeout(() => button.classList.remove("lg-copied"), 1500);
  }
}
"""
