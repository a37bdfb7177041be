"""Tests for sanitised forum markdown rendering in coop.forum.markdown."""

from __future__ import annotations

import re

import pytest

from coop.forum.markdown import render


def rel_values(html: str) -> list[set[str]]:
    """The rel attribute tokens of every element in html."""
    return [set(value.split()) for value in re.findall(r'rel="([^"]*)"', html)]


def test_script_tag_removed():
    html = render("hello <script>alert(1)</script> world")
    assert "<script" not in html.lower()
    assert "hello" in html


def test_script_block_removed():
    html = render("<script>\nalert(1)\n</script>\n\nafter")
    assert "<script" not in html.lower()
    assert "after" in html


def test_script_in_code_is_escaped_text():
    html = render("`<script>alert(1)</script>`")
    assert "<script" not in html.lower()
    assert "&lt;script&gt;" in html


def test_onerror_attribute_removed():
    html = render("<img src=x onerror=alert(1)>")
    assert "onerror" not in html.lower()
    assert "alert" not in html


def test_event_handler_on_allowed_tag_removed():
    html = render('<p onclick="alert(1)">hi</p>')
    assert "onclick" not in html.lower()
    assert "hi" in html


@pytest.mark.parametrize(
    "source",
    [
        "[x](javascript:alert(1))",
        "[x](JaVaScRiPt:alert(1))",
        '<a href="javascript:alert(1)">x</a>',
        "![x](javascript:alert(1))",
        "[x]: javascript:alert(1)\n\n[y][x]",
    ],
)
def test_javascript_urls_dropped(source):
    html = render(source)
    assert "javascript:" not in html.lower()


def test_javascript_link_keeps_text():
    assert ">x</a>" in render("[x](javascript:alert(1))")


def test_normal_link_gets_nofollow():
    html = render("[coop](https://example.org/page)")
    assert 'href="https://example.org/page"' in html
    assert rel_values(html) == [{"nofollow", "noopener", "noreferrer"}]
    assert 'rel="nofollow noopener noreferrer"' in html


def test_member_supplied_rel_is_replaced():
    html = render('<a href="https://example.org" rel="me">x</a>')
    assert all("nofollow" in rel for rel in rel_values(html))
    assert {"me"} not in rel_values(html)


def test_link_title_kept():
    html = render('[coop](https://example.org "The coop")')
    assert 'title="The coop"' in html


def test_mailto_link_allowed():
    html = render("[mail](mailto:board@example.org)")
    assert 'href="mailto:board@example.org"' in html
    assert "nofollow" in rel_values(html)[0]


def test_autolink_gets_nofollow():
    html = render("<https://example.org>")
    assert 'href="https://example.org"' in html
    assert "nofollow" in rel_values(html)[0]


def test_bare_url_is_not_linkified():
    assert "<a" not in render("see https://example.org")


def test_emphasis_and_code():
    html = render("*em* **strong** `code()`")
    assert "<em>em</em>" in html
    assert "<strong>strong</strong>" in html
    assert "<code>code()</code>" in html


def test_fenced_code_block():
    html = render("```python\nx = 1 < 2\n```")
    assert "<pre><code>" in html
    assert "x = 1 &lt; 2" in html
    # The language class is not on the allow-list.
    assert "class=" not in html


def test_lists():
    html = render("- a\n- b\n\n1. one\n2. two")
    assert "<ul>" in html and "<ol>" in html
    assert html.count("<li>") == 4


def test_headings_blockquote_and_rule():
    html = render("# Title\n\n###### Small\n\n> quoted\n\n---")
    assert "<h1>Title</h1>" in html
    assert "<h6>Small</h6>" in html
    assert "<blockquote>" in html
    assert "<hr>" in html


def test_strikethrough():
    html = render("~~gone~~")
    assert re.search(r"<(s|del)>gone</\1>", html)


def test_table_with_alignment():
    html = render("| a | b | c |\n|:--|:-:|--:|\n| 1 | 2 | 3 |")
    for tag in ("<table>", "<thead>", "<tbody>", "<tr>"):
        assert tag in html
    assert '<th align="left">a</th>' in html
    assert '<th align="center">b</th>' in html
    assert '<td align="right">3</td>' in html
    assert "style=" not in html


def test_image_allowed():
    html = render('![alt text](https://example.org/a.png "caption")')
    assert 'src="https://example.org/a.png"' in html
    assert 'alt="alt text"' in html
    assert 'title="caption"' in html


def test_iframe_dropped():
    html = render('<iframe src="https://example.org"></iframe>\n\nafter')
    assert "<iframe" not in html.lower()
    assert "after" in html


def test_style_dropped():
    html = render("<style>body { display: none }</style>\n\nafter")
    assert "<style" not in html.lower()
    assert "display" not in html
    assert "after" in html


def test_inline_style_attribute_dropped():
    html = render('<p style="position:fixed">x</p>')
    assert "style" not in html


@pytest.mark.parametrize(
    "source",
    [
        "![pixel](data:image/png;base64,iVBORw0KGgo=)",
        '<img src="data:image/svg+xml;base64,PHN2Zz48L3N2Zz4=">',
    ],
)
def test_data_url_images_dropped(source):
    html = render(source)
    assert "data:" not in html


def test_disallowed_tags_are_stripped_but_text_kept():
    html = render("<div><span>kept</span></div>")
    assert "<div" not in html and "<span" not in html
    assert "kept" in html


def test_plain_text_is_escaped():
    html = render("1 < 2 & 3 > 2")
    assert "&lt;" in html and "&amp;" in html


def test_empty_source():
    assert render("") == ""
