/* llmnotes: the self-checks (llmnotes.pipeline.course draws them from docs/quizzes/*.yml).
 *
 * Each question is a fieldset of radio buttons; picking one says at once whether it is right
 * and why (the explanation is the option's own, from the "All answers explained" list, which
 * stays for readers without JavaScript). Picks are kept in localStorage under
 * "llmnotes.quiz.TOPIC" by question id, so they survive a reload, and the Start page shows how
 * far the reader got in each topic. Nothing is sent anywhere.
 */
(function () {
  "use strict";
  const KEY = (topic) => `llmnotes.quiz.${topic}`;

  function load(topic) {
    try {
      const saved = JSON.parse(window.localStorage.getItem(KEY(topic)) || "{}");
      if (saved && typeof saved.answers === "object" && saved.answers) return saved;
    } catch (error) {
      /* storage disabled, or a value written by something else: start afresh */
    }
    return { answers: {}, right: 0, total: 0 };
  }

  function save(topic, picks) {
    try {
      window.localStorage.setItem(KEY(topic), JSON.stringify(picks));
    } catch (error) {
      /* private mode: feedback still works, it is just not remembered */
    }
  }

  function feedback(question) {
    const picked = question.querySelector("input:checked");
    const box = question.querySelector(".llmnotes-feedback");
    question.classList.remove("llmnotes-right", "llmnotes-wrong");
    if (!picked) {
      box.textContent = "";
      return null;
    }
    const right = picked.hasAttribute("data-right");
    const why = question.querySelector(
      `.llmnotes-answers [data-option="${Number(picked.value)}"] .llmnotes-why`,
    );
    question.classList.add(right ? "llmnotes-right" : "llmnotes-wrong");
    box.innerHTML = "";
    const verdict = document.createElement("strong");
    verdict.textContent = right ? "Right. " : "Not quite. ";
    box.appendChild(verdict);
    if (why) box.insertAdjacentHTML("beforeend", why.innerHTML);
    if (!right) box.appendChild(document.createTextNode(" Try another answer."));
    return right;
  }

  function score(form) {
    const questions = form.querySelectorAll(".llmnotes-question");
    let answered = 0;
    let right = 0;
    questions.forEach((question) => {
      const picked = question.querySelector("input:checked");
      if (!picked) return;
      answered += 1;
      if (picked.hasAttribute("data-right")) right += 1;
    });
    return { answered, right, total: questions.length };
  }

  function showScore(form) {
    const { answered, right, total } = score(form);
    form.querySelector(".llmnotes-quiz-score").textContent =
      answered === 0
        ? `${total} questions. Pick an answer to see whether it is right, and why.`
        : `${right} of ${total} right (${answered} answered). Your answers stay in this browser.`;
  }

  function setUp(form) {
    if (form.dataset.ready) return;
    form.dataset.ready = "yes";
    const topic = form.dataset.quiz;
    const picks = load(topic).answers;
    form.querySelectorAll(".llmnotes-question").forEach((question) => {
      const saved = picks[question.dataset.question];
      const input = question.querySelector(`input[value="${Number(saved)}"]`);
      if (saved !== undefined && input) input.checked = true;
      feedback(question);
    });
    showScore(form);
    form.addEventListener("change", (event) => {
      const question = event.target.closest(".llmnotes-question");
      if (!question) return;
      feedback(question);
      const answers = load(topic).answers;
      answers[question.dataset.question] = Number(event.target.value);
      const { right, total } = score(form);
      save(topic, { answers, right, total });
      showScore(form);
    });
    form.addEventListener("reset", () => {
      try {
        window.localStorage.removeItem(KEY(topic));
      } catch (error) {
        /* nothing was kept */
      }
      // The reset clears the buttons after this event; redraw once it has.
      window.setTimeout(() => {
        form.querySelectorAll(".llmnotes-question").forEach(feedback);
        showScore(form);
      });
    });
  }

  function progress(span) {
    const saved = load(span.dataset.quiz);
    if (!Object.keys(saved.answers).length || !saved.total) return;
    const link = span.querySelector("a");
    link.textContent = `${saved.right} of ${saved.total} right`;
    span.classList.toggle("llmnotes-done", saved.right === saved.total);
  }

  function setUpAll() {
    document.querySelectorAll("form.llmnotes-quiz").forEach(setUp);
    document.querySelectorAll(".llmnotes-progress[data-quiz]").forEach(progress);
  }

  // Material's instant navigation swaps pages without a reload; document$ fires on each one.
  if (typeof window.document$ !== "undefined") window.document$.subscribe(setUpAll);
  else document.addEventListener("DOMContentLoaded", setUpAll);
})();
