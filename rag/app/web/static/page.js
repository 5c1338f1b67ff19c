// The chat page's own script (rag/app/web/static/page.js), served by the app at
// rag-static/page.js and loaded in the page's <head>. Everything here runs in the browser:
// nothing about the conversation goes to the server for it.
//  - the chat's copy buttons copy plain text (the answer with its [n] markers and numbered
//    sources, from .rag-copy) instead of the message's HTML;
//  - ragExportMarkdown() downloads the whole conversation as Markdown;
//  - ragScrollToMark() brings the article view's first highlighted sentence into sight;
//  - ragAfterAnswer() shows the new answer from its start when it is long, and keeps the
//    question box in view (phones scroll it away).
(() => {
  // The plain text of one message: an answer's hidden .rag-copy text, or the question as typed.
  const plain = (node) => {
    const copy = node.querySelector('.rag-copy');
    if (copy) return copy.textContent;
    const user = node.querySelector('.rag-user');
    return user ? user.innerText : node.innerText;
  };
  const messages = () => Array.from(document.querySelectorAll('#chat .rag-copy, #chat .rag-user')).map(
    (el) => ({user: el.classList.contains('rag-user'), text: el.classList.contains('rag-user')
      ? el.innerText : el.textContent}));
  const write = async (text) => {
    window.ragLastCopy = text;
    try { await navigator.clipboard.writeText(text); return; } catch (e) { /* fall back below */ }
    const area = document.createElement('textarea');
    area.value = text; document.body.appendChild(area); area.select();
    try { document.execCommand('copy'); } finally { area.remove(); }
  };
  window.ragConversationMarkdown = () => {
    const out = ['# Conversation', ''];
    for (const m of messages()) {
      if (m.user) { out.push('**Question:** ' + m.text, ''); }
      else { out.push(m.text.replace(/\n/g, '  \n'), '', '---', ''); }
    }
    return out.join('\n');
  };
  window.ragExportMarkdown = () => {
    const text = window.ragConversationMarkdown();
    window.ragLastExport = text;
    const link = document.createElement('a');
    link.href = URL.createObjectURL(new Blob([text], {type: 'text/markdown'}));
    link.download = 'conversation-' + new Date().toISOString().slice(0, 19).replace(/[:T]/g, '-') + '.md';
    document.body.appendChild(link); link.click(); link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 5000);
  };
  // The chat's copy buttons sit after their message: find that message, copy its plain text.
  document.addEventListener('click', (event) => {
    const button = event.target.closest && event.target.closest('#chat button');
    if (!button) return;
    const label = ((button.getAttribute('aria-label') || '') + ' ' + (button.title || '')).toLowerCase();
    if (!label.includes('copy') || label.includes('all')) return;
    let node = button.closest('.message-buttons') || button.parentElement;
    const has = (n) => n.querySelector && n.querySelector('.rag-copy, .rag-user');
    while (node && !has(node)) node = node.previousElementSibling;
    if (!node) return;
    event.preventDefault(); event.stopImmediatePropagation();
    write(plain(node));
  }, true);
  // Wide screens: keep a citation's pop-up inside the window (phones place it by CSS).
  const place = (event) => {
    const cite = event.target.closest && event.target.closest('#chat .rag-cite');
    const pop = cite && cite.querySelector('.rag-cite-pop');
    if (!pop || window.innerWidth <= 640) return;
    pop.style.left = ''; pop.style.top = '';
    requestAnimationFrame(() => {
      const r = pop.getBoundingClientRect(), m = cite.getBoundingClientRect(), w = window.innerWidth;
      if (r.right > w - 8) pop.style.left = Math.max(8, w - 8 - r.width) + 'px';
      if (r.bottom > window.innerHeight - 8) pop.style.top = Math.max(8, m.top - r.height - 8) + 'px';
    });
  };
  document.addEventListener('mouseover', place, true);
  document.addEventListener('focusin', place, true);
})();

(() => {
  // The article view: its first highlighted sentence, a third of the way down the box.
  window.ragScrollToMark = () => setTimeout(() => {
    const mark = document.querySelector('#article mark.rag-hl');
    const box = mark && mark.closest('.rag-article');
    if (box && mark.offsetParent === box) box.scrollTop = Math.max(0, mark.offsetTop - box.clientHeight / 3);
  }, 50);
  // The element that scrolls ``el`` (the chat's message list), or null.
  const scroller = (el) => {
    for (let n = el && el.parentElement; n; n = n.parentElement) {
      const overflow = getComputedStyle(n).overflowY;
      if ((overflow === 'auto' || overflow === 'scroll') && n.scrollHeight > n.clientHeight) return n;
    }
    return null;
  };
  // After an answer (the chat does not scroll by itself: autoscroll is off): an answer that
  // fits is shown whole at the bottom of the chat; a longer one from its start, so that it is
  // read from its first line (on a phone the end of a long answer was shown, its start out of
  // sight). Then the question box stays in view (phones scroll it away).
  window.ragShowLastAnswer = () => {
    const answers = document.querySelectorAll('#chat .rag-answer');
    const last = answers[answers.length - 1];
    const box = last && scroller(last);
    if (!box) return;
    const bubble = last.closest('.message') || last;
    const top = bubble.getBoundingClientRect().top - box.getBoundingClientRect().top + box.scrollTop;
    box.scrollTop = bubble.offsetHeight > box.clientHeight - 16 ? Math.max(0, top - 8) : box.scrollHeight;
  };
  // The page's restore (its load event: the last conversation, the documents) is done: marked
  // on <html data-rag-ready>, so that a script (or a test) asks only once it cannot be undone
  // by the restore landing later; then the last answer is shown as after an answer.
  window.ragAfterRestore = () => {
    document.documentElement.dataset.ragReady = '1';
    setTimeout(window.ragShowLastAnswer, 80);
  };
  window.ragAfterAnswer = () => setTimeout(() => {
    window.ragShowLastAnswer();
    const box = document.querySelector('#question textarea');
    if (!box) return;
    const r = box.getBoundingClientRect();
    if (r.bottom > window.innerHeight || r.top < 0) box.scrollIntoView({block: 'end'});
  }, 80);
})();
