"""Look and behaviour of the chat page: its theme, style sheet and the little JavaScript it needs.

The JavaScript only scrolls to a source card when a ``[n]`` marker is clicked and copies the
briefing note; everything the page shows comes escaped from ``ui.render``.
"""

from __future__ import annotations

import gradio as gr

SYSTEM_FONTS = ("ui-sans-serif", "system-ui", "Segoe UI", "Helvetica Neue", "Arial", "sans-serif")
"""Local fonts only: the page must work on networks that cannot reach a font service."""

SERIF_FONTS = ("Georgia", "Cambria", "Times New Roman", "serif")


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
    )


PLACEHOLDER = (
    "<div style='text-align:center;color:#64748b;max-width:34em;margin:auto'>"
    "<p style='font-size:1.05rem;color:#1f3a5f'><strong>Ask a question about the indexed "
    "reports</strong></p><p>Answers quote the reports sentence by sentence. Each sentence "
    "carries a numbered citation: click it to see the passage, with the supporting text "
    "highlighted, in the Sources panel.</p><p>Dutch or English; follow-up questions are "
    "understood in context.</p></div>"
)
"""What the empty chat shows."""

CSS = """
.gradio-container { max-width: 1480px !important; }
#lg-header { padding: 6px 2px 2px 2px; border-bottom: 2px solid #1f3a5f; margin-bottom: 6px; }
#lg-header .lg-brand { font-family: Georgia, Cambria, serif; font-size: 1.65rem; color: #1f3a5f;
  font-weight: 600; letter-spacing: .01em; }
#lg-header .lg-tagline { color: #475569; font-size: .95rem; margin-left: .75rem; }
#lg-header .lg-stats { float: right; color: #64748b; font-size: .85rem; margin-top: .6rem; }
.lg-answer p, .lg-answer ul { margin: 0 0 .45em 0; line-height: 1.55; }
.lg-answer ul { padding-left: 1.3em; }
.lg-answer .lg-lead { color: #475569; font-style: italic; }
.lg-answer .lg-heading { color: #334155; font-weight: 600; font-size: 0.9em; margin-bottom: 0.2em; }
.lg-answer .lg-notice { color: #92400e; background: #fffbeb; border-left: 3px solid #f59e0b;
  padding: .35em .6em; font-size: .9em; }
.lg-answer.lg-error p { color: #991b1b; }
.lg-answer.lg-refused p { color: #334155; }
.lg-pending { color: #64748b; font-style: italic; }
.lg-spinner { display: inline-block; width: .8em; height: .8em; margin-right: .5em;
  border: 2px solid #cbd5e1; border-top-color: #1f3a5f; border-radius: 50%;
  animation: lg-spin .8s linear infinite; vertical-align: -0.05em; }
@keyframes lg-spin { to { transform: rotate(360deg); } }
a.lg-cite { font-size: .78em; font-weight: 600; vertical-align: super; line-height: 0;
  color: #1d4ed8 !important; text-decoration: none !important; margin-left: 1px; cursor: pointer; }
a.lg-cite:hover { text-decoration: underline !important; }
.lg-question { white-space: pre-wrap; }
.lg-muted { color: #94a3b8; font-style: italic; }
#lg-sources-bar { align-items: center; }
#lg-sources-bar .lg-section { margin: 0 !important; }
#lg-sources-box { max-height: calc(100vh - 320px); min-height: 360px;
  overflow-y: auto !important; padding-right: 6px; }
.lg-sources-head { position: sticky; top: 0; z-index: 1; background: #fff;
  padding: 2px 0 8px 0; margin-bottom: 6px; border-bottom: 1px solid #e2e8f0; }
.lg-sources-head .lg-label { display: block; text-transform: uppercase; letter-spacing: .06em;
  font-size: .72rem; color: #64748b; font-weight: 600; }
.lg-sources-head .lg-q { display: block; font-weight: 600; color: #0f172a; margin-top: 2px; }
.lg-sources-head .lg-scope { display: block; font-size: .8rem; color: #64748b; margin-top: 2px; }
.lg-empty p { color: #64748b; font-size: .92rem; }
.lg-card { border: 1px solid #dbe1e8; border-left: 3px solid #1f3a5f; background: #fff;
  border-radius: 3px; padding: 9px 12px; margin: 0 0 10px 0; transition: box-shadow .3s; }
.lg-card.lg-uncited { border-left-color: #cbd5e1; }
.lg-card.lg-flash { box-shadow: 0 0 0 3px #93c5fd; }
.lg-card header { display: flex; gap: .5em; align-items: baseline; }
.lg-card .lg-n { font-weight: 700; color: #1d4ed8; }
.lg-card .lg-title { font-family: Georgia, Cambria, serif; font-weight: 600; color: #0f172a; }
.lg-card .lg-meta, .lg-index .lg-meta { display: block; font-size: .8rem; color: #64748b;
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
.lg-section { text-transform: uppercase; letter-spacing: .06em; font-size: .72rem !important;
  color: #64748b !important; font-weight: 600; margin: 10px 0 2px 0 !important; }
#lg-scope { font-size: .82rem; color: #475569; }
#lg-rate-status { font-size: .85rem; color: #166534; min-height: 1.2em; }
#lg-copy.lg-copied::after { content: " ✓"; }
footer { opacity: .6; }
"""

HEAD = """
<script>
(() => {
  const flash = (el) => {
    // Scroll the source panel only, not the page around it.
    const box = el.closest("#lg-sources-box");
    if (box) {
      const head = box.querySelector(".lg-sources-head");
      const top = el.getBoundingClientRect().top - box.getBoundingClientRect().top;
      const offset = (head ? head.offsetHeight : 0) + 10;
      box.scrollTo({ top: box.scrollTop + top - offset, behavior: "smooth" });
    } else {
      el.scrollIntoView({ behavior: "smooth", block: "nearest" });
    }
    el.classList.add("lg-flash");
    setTimeout(() => el.classList.remove("lg-flash"), 1600);
  };
  // [n] markers: show the card (the panel may first switch to that answer's sources).
  document.addEventListener("click", (event) => {
    const link = event.target instanceof Element ? event.target.closest("a.lg-cite") : null;
    if (!link) return;
    event.preventDefault();
    const id = (link.getAttribute("href") || "").slice(1);
    let tries = 0;
    const find = () => {
      const el = document.getElementById(id);
      if (el) flash(el);
      else if (tries++ < 50) setTimeout(find, 100);
    };
    find();
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
})();
</script>
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
