"""Course material is HTML written by HR and shown to every colleague: cleaned to formatting only."""

from __future__ import annotations

import pytest

from tests.factories import make_course
from training import services
from training.richtext import clean


@pytest.mark.parametrize(
    ("dirty", "cleaned"),
    [
        ("<script>alert(document.cookie)</script><p>Read this.</p>", "<p>Read this.</p>"),
        ("<SCRIPT SRC=https://evil.example/x.js></SCRIPT>Hello", "Hello"),
        ("<style>body { display: none }</style><p>Shown</p>", "<p>Shown</p>"),
        ('<p onclick="steal()">Click</p>', "<p>Click</p>"),
        ('<p style="position:fixed">Styled</p>', "<p>Styled</p>"),
        ('<img src="x" onerror="steal()">', ""),
        ('<svg onload="steal()"></svg>', ""),
        ('<iframe src="https://evil.example/"></iframe>', ""),
        ('<form action="https://evil.example/"><input name="password"></form>', ""),
    ],
)
def test_scripts_styles_and_handlers_are_removed(dirty, cleaned):
    assert clean(dirty) == cleaned


@pytest.mark.parametrize(
    "href",
    [
        "javascript:alert(1)",
        "JaVaScRiPt:alert(1)",
        " javascript:alert(1)",
        "jav&#x09;ascript:alert(1)",
        "vbscript:msgbox(1)",
        "data:text/html,<script>alert(1)</script>",
    ],
)
def test_links_that_run_code_lose_their_target(href):
    result = clean(f'<a href="{href}">the policy</a>')

    assert "href" not in result
    assert "script" not in result.lower()
    assert "the policy" in result


@pytest.mark.parametrize("href", ["https://intranet.example/policy", "http://example.com/", "mailto:hr@example.com"])
def test_web_and_mail_links_stay_and_open_safely(href):
    result = clean(f'<a href="{href}" title="Policy" onmouseover="steal()">the policy</a>')

    assert f'href="{href}"' in result
    assert 'title="Policy"' in result
    assert 'rel="noopener noreferrer nofollow"' in result
    assert "onmouseover" not in result


def test_formatting_is_kept():
    material = (
        "<h2>Duties</h2><p><strong>Never</strong> <em>discuss</em> <u>matters</u> in public.</p>"
        "<ul><li>one</li></ul><ol><li>two</li></ol><blockquote>quote</blockquote><pre><code>x</code></pre><hr>"
    )

    assert clean(material) == material


def test_text_that_looks_like_a_tag_stays_text():
    assert clean("Type &lt;script&gt; to fail the quiz") == "Type &lt;script&gt; to fail the quiz"


@pytest.mark.parametrize("empty", ["", None, "   "])
def test_nothing_cleans_to_nothing(empty):
    assert clean(empty) == ""


def test_saving_a_course_cleans_both_languages(harriet):
    course = make_course("Phishing", published=False)
    course.material = '<p onclick="x()">Check the sender.</p><script>steal()</script>'
    course.material_zh = '<p>检查发件人。</p><a href="javascript:steal()">链接</a>'

    services.save_course(actor=harriet, course=course)

    course.refresh_from_db()
    assert course.material == "<p>Check the sender.</p>"
    assert "javascript" not in course.material_zh
    assert "<p>检查发件人。</p>" in course.material_zh
