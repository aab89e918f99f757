"""Blank form pages, rendered once per atelier, language and template: only the CSRF token differs per visitor.

Rendering the idea form took 0.7 ms of CPU, most of it in WTForms' attribute
serialisation and Jinja's macro calls, for a page that is the same for every
participant except for its CSRF token.  So the first GET of a blank form
renders it with a marker in place of the token and keeps the page; later GETs
put their own token in place of the marker, without even making the form (the
GET of the idea form went from 1.3 to 0.35 ms of CPU in process).  Kept for bench/bench_form.py's
target (form ≥ 0.3× the no-op endpoint): without it, 2026-11-29, the workers' CPU per form
request went from 1.84-1.86 to 2.29 ms (+24 %), and one GET of the idea form from 0.46-0.55 to
1.75 ms in process.

A blank page may depend only on what is checked before it is reused: the
template, the atelier (the very `Workshop` object the catalog hands out,
replaced whenever atelier.yaml changes), the language and the app's root URL.
A page that shows anything else — errors, a correction's text, a flashed
message — is rendered as before and never stored.  One page is kept per
template, atelier and language (the two the app speaks), so what a request
sends cannot make the cache grow: a page for another root URL (which a proxy
may set) replaces the kept one.
"""

from __future__ import annotations

import secrets
import threading
from typing import Any, Callable

from flask import current_app, render_template, request
from flask_babel import get_locale  # type: ignore[import-untyped]
from flask_wtf import FlaskForm  # type: ignore[import-untyped]
from flask_wtf.csrf import generate_csrf  # type: ignore[import-untyped]

from pipeline.workshop import Workshop
from webform.receipts import new_submission

# Letters and digits only, so that HTML escaping leaves it as it is; never in a participant's page.
_MARK = "csrf" + secrets.token_hex(16)
_SUBMISSION_MARK = "envoi" + secrets.token_hex(16)  # each visitor's submission token (webform/receipts.py)


class BlankForms:
    """The rendered blank form pages of one app (a handful per atelier)."""

    def __init__(self) -> None:
        self._pages: dict[tuple[str, str, str, str], tuple[Workshop, str, str]] = {}
        self._lock = threading.Lock()

    def render(
        self,
        template: str,
        workshop: Workshop,
        build: Callable[[], tuple[FlaskForm, dict[str, Any]]],
        variant: str = "",
    ) -> str:
        """The page of `template` for a blank form of `workshop`, with this visitor's CSRF token.

        `build()` makes the form and the template's other variables; it is
        called only when the page must be rendered, since making the form
        cost as much again as putting the token in a kept page.  `variant`
        tells apart the pages of one template (a sheet's phase, question and
        group).
        """
        if current_app.debug or current_app.jinja_env.auto_reload:  # templates being edited
            form, context = build()
            return render_template(
                template, form=form, workshop=workshop, errors=[], token=None, submission=new_submission(), **context
            )
        key = (template, workshop.slug, str(get_locale()), variant)
        page = self._pages.get(key)
        if page is None or page[0] is not workshop or page[1] != request.script_root:
            form, context = build()
            token = form.csrf_token.current_token
            form.csrf_token.current_token = _MARK
            body = render_template(
                template, form=form, workshop=workshop, errors=[], token=None, submission=_SUBMISSION_MARK, **context
            )
            with self._lock:
                self._pages[key] = (workshop, request.script_root, body)
            return body.replace(_MARK, token).replace(_SUBMISSION_MARK, new_submission())
        # The token the form would have made: Flask-WTF's, from the session's CSRF key.
        return page[2].replace(_MARK, generate_csrf()).replace(_SUBMISSION_MARK, new_submission())
