// Berth's one script: it only adds live updates; every page works without it.
"use strict";

// A task's log, live: the API's event stream adds each line as it is written, in its section.
function followLog(log) {
  const task = log.dataset.task;
  const after = log.dataset.after || "0";
  const events = new EventSource(`/api/tasks/${encodeURIComponent(task)}/log/stream?after=${encodeURIComponent(after)}`);
  events.addEventListener("line", (event) => {
    const line = JSON.parse(event.data);
    const title = line.section || "Task";
    let section = log.lastElementChild;
    if (!section || section.dataset.title !== title) {
      section = document.createElement("details");
      section.open = true;
      section.className = "section";
      section.dataset.title = title;
      const summary = document.createElement("summary");
      summary.textContent = title;
      section.appendChild(summary);
      log.appendChild(section);
    }
    if (document.getElementById(`L${line.sequence}`)) return;
    const row = document.createElement("div");
    row.className = `line ${line.level}`;
    row.id = `L${line.sequence}`;
    const link = document.createElement("a");
    link.href = `#L${line.sequence}`;
    link.className = "n";
    link.textContent = String(line.sequence);
    const time = document.createElement("time");
    time.textContent = line.time.replace("T", " ").replace("Z", "");
    const message = document.createElement("span");
    message.className = "m";
    message.textContent = line.message;
    row.append(link, time, message);
    section.appendChild(row);
    log.dataset.after = String(line.sequence);
    const nearBottom = window.innerHeight + window.scrollY >= document.body.offsetHeight - 80;
    if (nearBottom) row.scrollIntoView({ block: "end" });
  });
  events.addEventListener("end", (event) => {
    events.close();
    const task = JSON.parse(event.data);
    const state = document.getElementById("task-state");
    if (state) {
      state.textContent = task.state.replace("-", " ");
      state.className = `badge ${task.state}`;
    }
    const completed = document.getElementById("task-completed");
    if (completed && task.completedAt) completed.textContent = task.completedAt.replace("T", " ").replace("Z", "");
    const error = document.getElementById("task-error");
    if (error && task.errorMessage) {
      error.textContent = task.errorMessage;
      error.hidden = false;
    }
    const cancel = document.getElementById("cancel");
    if (cancel) cancel.remove();
  });
}

// Parts of a page that follow the server: fetched again every few seconds and swapped in.
function refresh(element) {
  const every = Number(element.dataset.refresh) || 5000;
  const id = element.id;
  const timer = setInterval(async () => {
    if (document.hidden) return;
    try {
      // Marked as the page's own refresh: it does not count as the person's activity (their
      // session still ends after its idle time).
      const response = await fetch(window.location.href, {
        headers: { Accept: "text/html", "X-Berth-Refresh": "1" }, credentials: "same-origin", redirect: "manual",
      });
      if (!response.ok) {
        if (response.type === "opaqueredirect" || response.status === 401) clearInterval(timer);
        return;
      }
      const page = new DOMParser().parseFromString(await response.text(), "text/html");
      const fresh = page.getElementById(id);
      const current = document.getElementById(id);
      if (fresh && current && fresh.innerHTML !== current.innerHTML) current.innerHTML = fresh.innerHTML;
      // A part that no longer changes (a finished task's chart) stops being fetched.
      if (!fresh || !fresh.hasAttribute("data-refresh")) clearInterval(timer);
    } catch (_) {
      // The next round tries again.
    }
  }, every);
}

// "Copy" buttons: the text of the element they name, to the clipboard.
function copyButton(button) {
  button.addEventListener("click", async () => {
    const source = document.getElementById(button.dataset.copy);
    if (!source) return;
    try {
      await navigator.clipboard.writeText(source.textContent);
      button.textContent = "Copied";
    } catch (_) {
      const range = document.createRange();
      range.selectNodeContents(source);
      window.getSelection().removeAllRanges();
      window.getSelection().addRange(range);
      button.textContent = "Selected: press Ctrl+C";
    }
    setTimeout(() => { button.textContent = "Copy"; }, 2000);
  });
}

document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("button[data-copy]").forEach(copyButton);
  const log = document.getElementById("log");
  if (log && log.dataset.finished !== "true") followLog(log);
  document.querySelectorAll("[data-refresh][id]").forEach(refresh);
});
