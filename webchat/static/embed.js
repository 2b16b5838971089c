/* Put the council chat in a page: <script src="https://CHAT-HOST/chat/embed.js" async></script>
   The chat runs in a frame served by the chat's own host (its site must be
   in WEBCHAT_EMBED_ORIGINS); a link to the full page follows the frame. */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script) { return; }
  var origin = new URL(script.src).origin;
  var frame = document.createElement("iframe");
  frame.src = origin + "/chat?embed=1";
  frame.title = "Ask the council: chat with Lancaster City Council and Lancashire County Council";
  frame.style.width = "100%";
  frame.style.maxWidth = "40rem";
  frame.style.height = script.getAttribute("data-height") || "40rem";
  frame.style.border = "2px solid #505a5f";
  var link = document.createElement("p");
  var anchor = document.createElement("a");
  anchor.href = origin + "/chat";
  anchor.textContent = "Open the chat in its own page";
  link.appendChild(anchor);
  script.parentNode.insertBefore(link, script.nextSibling);
  script.parentNode.insertBefore(frame, link);
}());
