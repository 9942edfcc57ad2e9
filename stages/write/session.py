"""One LLM writer run (:class:`Session`): endpoint, client, prompts, budget, counters and
warnings, and the orchestration — one call when the document fits the prompt budget, else the
map-reduce of :mod:`.longdoc`; one extend/shorten pass (:mod:`.resize`) when the result misses
the length target."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any, TypeVar

from podcast import Document, Script, Speaker, StageContext, UpstreamError

from .client import ChatClient, ClientSettings
from .length import TOLERANCE, count_units, script_units, target_units, within
from .llmbase import MAX_PROBLEMS_CHARS, MIN_CONTEXT, REPAIR_MARGIN, RUNAWAY, LLMOptions, UnusableAnswer
from .parse import SCRIPT_SCHEMA, ScriptProblems, parse_script
from .prompting import PromptBook
from .providers import Endpoint, Provider, estimate_cost, safe_url

__all__ = ["Session"]

T = TypeVar("T")


class Session:
    """One writer run: endpoint, client, prompts, budget, counters and warnings."""

    def __init__(
        self,
        client: ChatClient,
        book: PromptBook,
        options: LLMOptions,
        language: str,
        speakers: tuple[Speaker, ...],
        minutes: float,
        ctx: StageContext,
    ) -> None:
        self.client, self.book, self.options = client, book, options
        self.language, self.speakers, self.minutes, self.ctx = language, speakers, minutes, ctx
        self.target = target_units(minutes, language) if minutes > 0 else 0
        self.budget = options.context_chars
        self.server: Any = None
        self.warnings: list[str] = []
        self.facts: dict[str, Any] = {"mode": "single", "repairs": 0, "length_adjusted": False}
        self.material = ""  # source text or notes offered when a script must grow

    @classmethod
    def open(
        cls,
        provider: Provider,
        options: LLMOptions,
        language: str,
        speakers: tuple[Speaker, ...],
        ctx: StageContext,
    ) -> Session:
        endpoint = Endpoint.resolve(provider, options.base_url, options.api_key_file)
        settings = ClientSettings(
            options.model or provider.default_model,
            options.temperature,
            options.max_tokens,
            options.timeout,
            options.retries,
            options.backoff,
            options.max_wait,
            options.stream,
            options.response_format,
        )
        client = ChatClient(endpoint, settings, ctx.progress, ctx.log)
        if not options.model and endpoint.custom and provider.list_models:
            listed = client.first_model()
            if listed:
                client.settings = replace(settings, model=listed)
        book = PromptBook.for_context(language, ctx)
        session = cls(client, book, options, language, speakers, ctx.config.minutes, ctx)
        session.fit_server()
        return session

    @classmethod
    def with_client(cls, client: Any, options: LLMOptions, language: str, speakers: tuple[Speaker, ...],
                    ctx: StageContext) -> Session:  # fmt: skip
        """A session around a ready client (the in-process GGUF writer's)."""
        return cls(client, PromptBook.for_context(language, ctx), options, language, speakers, ctx.config.minutes, ctx)

    def fit_context(self, context: int, facts: Mapping[str, Any]) -> None:
        """Budget prompts and answers for a model run at ``context`` tokens."""
        from .servers import budget_for

        budget = budget_for(context, self.language, self.options.max_tokens)
        self.budget = min(self.budget, budget.prompt_chars)
        self.client.settings = replace(self.client.settings, max_tokens=budget.answer_tokens)
        self.facts["server"] = dict(facts)

    def fit_server(self) -> None:
        """Budget prompts and answers from a local server's real context (see :mod:`.servers`)."""
        from .providers import is_local
        from .servers import ServerFacts, budget_for, probe_server

        client, options = self.client, self.options
        local = is_local(client.endpoint.base_url)
        if not local and not options.context_tokens:
            return
        setting = f"stages.write.{client.endpoint.provider.name}.context_tokens"
        facts = probe_server(client.endpoint.base_url, client.settings.model) if local else ServerFacts("hosted", setting=setting)
        if options.context_tokens:  # the user knows better than the probe
            facts = replace(facts, context=options.context_tokens, note=None)
        if facts.model and client.settings.model in ("", "-"):
            client.settings = replace(client.settings, model=facts.model)
        self.server = facts
        self.facts["server"] = facts.as_json()
        if facts.note:
            self.warnings.append(f"writer: {facts.note}")
        if facts.context:
            budget = budget_for(facts.context, self.language, options.max_tokens)
            self.budget = min(self.budget, budget.prompt_chars)
            client.settings = replace(client.settings, max_tokens=budget.answer_tokens)
        client.local = local
        client.first_byte_timeout = options.first_byte_timeout
        client.reset()  # the HTTP client was made (listing models) before the timeouts were known

    # ── the run ──────────────────────────────────────────────────────────────
    def write(self, document: Document) -> Script:
        """The whole script, refitted when a server turns out to have cut a prompt (its own
        token count far below what was sent): the budget shrinks to what it kept and the work
        is redone, at most twice; then one line names the setting to raise."""
        from .client import PromptCut
        from .honesty import honesty_warnings

        for attempt in range(3):
            try:
                script = self._write(document)
            except PromptCut as cut:
                self.facts["prompt_cuts"] = self.facts.get("prompt_cuts", 0) + 1
                shrunk = int(self.budget * cut.kept_share * 0.8)
                if attempt == 2 or shrunk < MIN_CONTEXT:
                    setting = getattr(self.server, "setting", "") or f"stages.write.{self.client.endpoint.provider.name}.context_tokens"
                    raise UpstreamError(
                        f"{self.client.label} cut a prompt of about {cut.sent_tokens} tokens to {cut.kept_tokens}; "
                        f"give the server a larger context ({setting})"
                    ) from None
                self.warnings.append(
                    f"writer: the server kept {cut.kept_tokens} of about {cut.sent_tokens} prompt tokens; "
                    f"redoing with prompts of at most {shrunk} characters"
                )
                self.budget = shrunk
                continue
            self.warnings.extend(honesty_warnings(script, document.text, self.client.settings.model))
            return script
        raise AssertionError("unreachable")

    def _write(self, document: Document) -> Script:
        """The whole script for ``document`` (single call or map-reduce), length-checked."""
        prompt = self.book.fill(
            "script",
            {**self.values(self.target), "title": document.title, "document": document.text},
        )
        if self.size(self.system(), prompt) + REPAIR_MARGIN <= self.budget:
            self.material = document.text
            script = self.ask_script(prompt, "script")
        else:
            from .longdoc import write_long

            self.facts["mode"] = "map-reduce"
            script = write_long(self, document)
        script = replace(script, title=script.title or document.title)
        return self.fit_length(script, document)

    def fit_length(self, script: Script, document: Document) -> Script:
        """One extend/shorten pass when the script misses the target by more than ±20 %."""
        if not self.target or within(script_units(script), self.target):
            return script
        from .resize import resize_script

        before = script_units(script)
        try:
            script = resize_script(self, script, document)
            self.facts["length_adjusted"] = True
        except UnusableAnswer as exc:
            self.warnings.append(
                f"writer: the length adjustment was unusable ({_short(str(exc))}); kept the first script"
            )
        after = script_units(script)
        self.facts["units_before_adjustment"] = before
        unit = self.book.phrase("unit")
        if after > self.target * RUNAWAY:
            raise UnusableAnswer(
                f"{self.client.label} wrote {after} {unit} for a target of {self.target} "
                f"({after / self.target:.1f}x, even after asking to shorten it); refusing the script "
                "(lower max_tokens, use another model, or raise --minutes)"
            )
        if not within(after, self.target):
            self.warnings.append(
                f"writer: the script has {after} {unit}, {after / self.target - 1:+.0%} off the "
                f"target of {self.target} (±{TOLERANCE:.0%}) after one adjustment pass"
            )
        return script

    # ── asking ───────────────────────────────────────────────────────────────
    def ask_script(self, prompt: str, purpose: str, whole: bool = True, label: str = "") -> Script:
        """A validated script for ``prompt`` (system prompt included), with one repair.
        ``whole=False`` (one chapter of a long episode) allows a single speaker."""
        return self.ask(
            prompt,
            purpose,
            SCRIPT_SCHEMA,
            lambda a: parse_script(a, self.language, self.speakers, whole),
            system=True,
            label=label,
        )

    def ask(
        self,
        prompt: str,
        purpose: str,
        schema: Mapping[str, Any] | None,
        parse: Callable[[str], T],
        system: bool = False,
        label: str = "",
    ) -> T:
        """Ask, parse; on :class:`ScriptProblems` ask once more with the problems listed."""
        messages = ([{"role": "system", "content": self.system()}] if system else []) + [
            {"role": "user", "content": prompt}
        ]
        answer = self.client.complete(messages, purpose, schema, label or purpose)
        try:
            return parse(answer)
        except ScriptProblems as exc:
            self.facts["repairs"] += 1
            problems = _short(
                (exc.problems and "\n".join(f"- {p}" for p in exc.problems)) or str(exc),
                MAX_PROBLEMS_CHARS,
            )
            repair = self.book.fill("repair", {**self.values(self.target), "problems": problems})
            history = [*messages, {"role": "assistant", "content": answer}]
            if self.size(*(m["content"] for m in history), repair) > self.budget:
                history = messages  # the answer itself does not fit: list the problems only
            second = self.client.complete(
                [*history, {"role": "user", "content": repair}],
                "repair",
                schema,
                f"repair {label or purpose}",
            )
        try:
            return parse(second)
        except ScriptProblems as exc:
            hint = ""
            if self.client.cut_off:
                hint = " (the answer stopped at max_tokens: raise the writer's max_tokens or lower --minutes)"
            raise UnusableAnswer(
                f"{self.client.label} gave no usable {purpose} after one repair: {_short(str(exc))}{hint}"
            ) from None

    def ask_text(self, prompt: str, purpose: str, label: str = "") -> str:
        """Plain-text answer (notes); an empty answer gets one more try, then an error."""

        def parse(answer: str) -> str:
            from .parse import clean_reply

            text = clean_reply(answer)
            if not text:
                raise ScriptProblems(["the answer was empty"])
            return text

        return self.ask(prompt, purpose, None, parse, label=label)

    # ── prompt pieces ────────────────────────────────────────────────────────
    def system(self) -> str:
        return self.book.fill("system", self.values(self.target))

    def values(self, target: int) -> dict[str, Any]:
        """Placeholders every template may use."""
        hosts = "\n".join(
            self.book.phrase("host_line", id=s.id, name=s.name, role=s.role or "host")
            for s in self.speakers
        )
        ids = ", ".join(s.id for s in self.speakers)
        values = {
            "hosts": hosts,
            "host": self.speakers[0].name,
            "guest": self.speakers[1].name,
            "ids": ids,
            "minutes": f"{self.minutes:g}",
        }
        values["target"] = self.target_phrase(target)
        values["format"] = self.book.fill("format", values)
        return values

    def target_phrase(self, units: int) -> str:
        units = max(units, 1)
        low, high = round(units * (1 - TOLERANCE)), round(units * (1 + TOLERANCE))
        return self.book.phrase("target", units=units, low=low, high=high)

    @staticmethod
    def size(*texts: str) -> int:
        """Prompt size in characters (what ``context_chars`` bounds)."""
        return sum(len(t) for t in texts)

    def units(self, text: str) -> int:
        return count_units(text, self.language)

    def details(self) -> dict[str, Any]:
        """What goes into episode.json (no key, no full URL query)."""
        usage, settings = self.client.usage, self.client.settings
        cost = estimate_cost(
            settings.model,
            usage.prompt_tokens,
            usage.completion_tokens,
            (self.options.price_input, self.options.price_output),
        )
        return {
            "provider": self.client.endpoint.provider.name,
            "base_url": safe_url(self.client.endpoint.base_url),
            "model": settings.model,
            **self.facts,
            "calls": usage.calls,
            "calls_by_purpose": dict(usage.purposes),
            "retries": usage.retries,
            "prompt_tokens": usage.prompt_tokens,
            "completion_tokens": usage.completion_tokens,
            "tokens_estimated": usage.estimated_tokens,
            "estimated_cost_usd": cost,
            "response_format": self.client.format_mode,
            "context_chars": self.budget,
            "largest_prompt_chars": usage.largest_prompt_chars,
        }


def _short(text: str, limit: int = 300) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
