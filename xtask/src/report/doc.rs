//! A small document model the report is built in once, then rendered as Markdown and as HTML.

use std::fmt::Write;

/// One block of a report.
#[derive(Debug, Clone, PartialEq)]
pub enum Block {
    Heading(u8, String),
    Para(String),
    List(Vec<String>),
    /// Header cells, then rows. A header starting with `>` is right-aligned (numbers). In HTML
    /// the table scrolls sideways in its own box, its first column (the row's name) staying in
    /// view; so does its last column when that is a verdict (headed `holds` or `verdict`).
    Table(Vec<String>, Vec<Vec<String>>),
    /// An SVG picture: in HTML inline; in Markdown, only its caption.
    Svg {
        caption: String,
        svg: String,
    },
    /// Text shown exactly as it is (a child's stderr): a fenced block in Markdown, `<pre>` in
    /// HTML. Nothing in it is markup, so raw HTML in it stays text in both.
    Code(String),
}

/// Markdown for `blocks`. `backticks` in text stay code spans. Text that would start an HTML tag
/// (a child's words: `<img src=x onerror=…>`) is escaped, so that no viewer of report.md runs
/// it, and control characters are shown, not sent to a terminal that prints the file.
pub fn markdown(blocks: &[Block]) -> String {
    let mut out = String::new();
    for block in blocks {
        match block {
            Block::Heading(level, text) => {
                let _ = writeln!(
                    out,
                    "{} {}\n",
                    "#".repeat(usize::from(*level)),
                    md_inline(&text.replace('\n', " "))
                );
            }
            Block::Para(text) => {
                let _ = writeln!(out, "{}\n", md_inline(text));
            }
            Block::List(items) => {
                for item in items {
                    // One line an item: a line break in it could start a heading.
                    let _ = writeln!(out, "- {}", md_inline(&item.replace('\n', " ")));
                }
                out.push('\n');
            }
            Block::Table(head, rows) => {
                let names: Vec<&str> = head.iter().map(|h| h.trim_start_matches('>')).collect();
                let rules: Vec<&str> = head
                    .iter()
                    .map(|h| if h.starts_with('>') { "---:" } else { "---" })
                    .collect();
                let _ = writeln!(out, "| {} |", names.join(" | "));
                let _ = writeln!(out, "|{}|", rules.join("|"));
                for row in rows {
                    let cells: Vec<String> = row
                        .iter()
                        // A line break or a no-break space only shapes the HTML table.
                        .map(|c| md_inline(&c.replace('|', "\\|").replace(['\n', '\u{a0}'], " ")))
                        .collect();
                    let _ = writeln!(out, "| {} |", cells.join(" | "));
                }
                out.push('\n');
            }
            Block::Svg { caption, .. } => {
                let _ = writeln!(out, "*Plot in report.html: {}.*\n", md_inline(caption));
            }
            Block::Code(text) => {
                // A fence longer than any run of backticks in the text, which it cannot end.
                let longest = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
                let fence = "`".repeat(longest.max(2) + 1);
                let shown: Vec<String> = text
                    .trim_end()
                    .split('\n')
                    .map(|line| {
                        line.split('\t')
                            .map(|part| timing::cli::visible(part).into_owned())
                            .collect::<Vec<_>>()
                            .join("\t")
                    })
                    .collect();
                let _ = writeln!(out, "{fence}text\n{}\n{fence}\n", shown.join("\n"));
            }
        }
    }
    out
}

/// Markdown text with what a viewer would take as raw HTML escaped: a `<` that starts a tag,
/// comment or declaration (`<a`, `</`, `<!`, `<?`) becomes `\<` outside code spans, and every
/// control character but a line break reads as `\u{1b}` and so on ([`timing::cli::visible`]).
pub fn md_inline(text: &str) -> String {
    let text: String = text
        .split('\n')
        .map(|line| timing::cli::visible(line).into_owned())
        .collect::<Vec<_>>()
        .join("\n");
    let mut out = String::with_capacity(text.len());
    let mut in_code = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '`' => in_code = !in_code,
            '<' if !in_code
                && chars
                    .peek()
                    .is_some_and(|n| n.is_ascii_alphabetic() || "/!?".contains(*n)) =>
            {
                out.push('\\');
            }
            _ => {}
        }
        out.push(c);
    }
    out
}

/// A whole, self-contained HTML page for `blocks`: inline CSS, inline SVG, nothing fetched.
pub fn html(title: &str, blocks: &[Block]) -> String {
    let mut out = String::new();
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{}</title>\n<style>\n{CSS}</style>\n</head>\n<body>\n",
        escape(title)
    );
    for block in blocks {
        match block {
            Block::Heading(level, text) => {
                let _ = writeln!(out, "<h{level}>{}</h{level}>", inline(text));
            }
            Block::Para(text) => {
                let _ = writeln!(out, "<p>{}</p>", inline(text));
            }
            Block::List(items) => {
                out.push_str("<ul>\n");
                for item in items {
                    let _ = writeln!(out, "<li>{}</li>", inline(item));
                }
                out.push_str("</ul>\n");
            }
            Block::Table(head, rows) => {
                let class = if head.last().is_some_and(|h| is_verdict(h)) {
                    " class=\"verdict\""
                } else {
                    ""
                };
                let _ = write!(out, "<div class=\"table\"><table{class}>\n<thead><tr>");
                for h in head {
                    let (class, name) = match h.strip_prefix('>') {
                        Some(n) => (" class=\"num\"", n),
                        None => ("", h.as_str()),
                    };
                    let _ = write!(out, "<th{class}>{}</th>", inline(name));
                }
                out.push_str("</tr></thead>\n<tbody>\n");
                for row in rows {
                    out.push_str("<tr>");
                    for (i, (cell, h)) in row.iter().zip(head).enumerate() {
                        // A figure keeps to one line; words in a figures' column (why a row
                        // has none) wrap, so that they do not widen the column for every row.
                        let class = match h.starts_with('>') {
                            true if cell.starts_with(char::is_alphabetic) => " class=\"num words\"",
                            true => " class=\"num\"",
                            false => "",
                        };
                        let text = inline(&keep_units(cell)).replace('\n', "<br>");
                        let text = if i == 0 { name_cell(&text) } else { text };
                        let _ = write!(out, "<td{class}>{text}</td>");
                    }
                    out.push_str("</tr>\n");
                }
                out.push_str("</tbody>\n</table></div>\n");
            }
            Block::Svg { caption, svg } => {
                let _ = writeln!(
                    out,
                    "<figure>\n{}\n<figcaption>{}</figcaption>\n</figure>",
                    svg.trim(),
                    inline(caption)
                );
            }
            Block::Code(text) => {
                let _ = writeln!(out, "<pre><code>{}</code></pre>", escape(text.trim_end()));
            }
        }
    }
    out.push_str("</body>\n</html>\n");
    out
}

/// A row's name kept on one line by no-break spaces (`eager\u{a0}(current)`): in HTML the
/// variant and its parenthesis as two `name` spans with plain spaces, which the style keeps
/// each on one line where there is room; a table too wide for a desktop page breaks a long
/// name between the two (`futures_unordered` / `(current, 50000 tasks)`), and a phone, where
/// the pinned name column must stay narrow, also between words.
fn name_cell(html: &str) -> String {
    if !html.contains('\u{a0}') {
        return html.to_owned();
    }
    let span = |part: &str| {
        format!(
            "<span class=\"name\">{}</span>",
            part.replace('\u{a0}', " ")
        )
    };
    match html.split_once("\u{a0}(") {
        Some((variant, rest)) => format!("{} {}", span(variant), span(&format!("({rest}"))),
        None => span(html),
    }
}

/// Whether a table's column headed `head` says whether something holds: kept in view on a
/// narrow screen, as the row's name is.
fn is_verdict(head: &str) -> bool {
    let name = head.trim_start_matches('>').trim();
    ["holds", "verdict"]
        .iter()
        .any(|v| name.eq_ignore_ascii_case(v))
}

/// The page's style: a column that reads at desktop width and on a 390 px phone with no
/// sideways scroll of the page itself. A table scrolls inside its own box, never breaking a
/// number from its unit, with its first column (the row's name) and a verdict column pinned
/// so they stay in view (a cell of words in a figures' column wraps); a picture is shown at
/// its natural size, or shrunk to the column's width (the charts are drawn narrow enough that
/// their text stays readable); a word too long for the line (a path) breaks; a claim that
/// fails (bold in a cell) is marked in red.
const CSS: &str = "body { font-family: system-ui, sans-serif; max-width: 80rem; margin: 2rem auto; padding: 0 1rem; color: #222; line-height: 1.45; overflow-wrap: break-word; }
.table { overflow-x: auto; margin: 1rem 0; }
table { border-collapse: separate; border-spacing: 0; font-size: 0.85rem; }
th, td { border: solid #ccc; border-width: 0 1px 1px 0; padding: 0.25rem 0.4rem; text-align: left; vertical-align: top; background: #fff; }
th { background: #f2f2f2; border-top-width: 1px; }
tr > :first-child { position: sticky; left: 0; z-index: 1; border-left-width: 1px; }
table.verdict tr > :last-child { position: sticky; right: 0; z-index: 1; border-left-width: 1px; }
.num { text-align: right; font-variant-numeric: tabular-nums; }
td.num, .name { white-space: nowrap; }
td.num.words { white-space: normal; }
td:has(> strong) { background: #fdecea; }
td strong { color: #b3261e; }
code { background: #f4f4f4; padding: 0 0.2rem; }
figure { margin: 1.5rem 0; }
figure svg { display: block; max-width: 100%; height: auto; }
pre { background: #f4f4f4; padding: 0.5rem; overflow-x: auto; }
figcaption { font-size: 0.85rem; color: #555; }
@media (max-width: 600px) { body { margin: 1rem auto; padding: 0 0.5rem; } h1 { font-size: 1.4rem; } table { font-size: 0.8rem; } tr > :first-child { min-width: 7rem; } .name { white-space: normal; } }
";

/// `text` with a no-break space between each number and its unit (`1.22 ms`), so a narrow
/// column wraps between figures, never inside one; other text still wraps where it must.
fn keep_units(text: &str) -> String {
    const UNITS: [&str; 5] = ["ns", "µs", "ms", "s", "MiB"];
    let mut out = String::with_capacity(text.len());
    let mut previous = None;
    for (i, c) in text.char_indices() {
        let rest = &text[i + c.len_utf8()..];
        let unit_follows = UNITS.iter().any(|u| {
            rest.strip_prefix(u)
                .is_some_and(|after| !after.starts_with(char::is_alphanumeric))
        });
        if c == ' ' && previous.is_some_and(|p: char| p.is_ascii_digit()) && unit_follows {
            out.push('\u{a0}');
        } else {
            out.push(c);
        }
        previous = Some(c);
    }
    out
}

/// Escapes text for HTML.
pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Escaped text with `code spans` and **bold** turned into tags.
fn inline(text: &str) -> String {
    let mut out = String::new();
    for (i, part) in escape(text).split('`').enumerate() {
        if i % 2 == 1 {
            let _ = write!(out, "<code>{part}</code>");
        } else {
            for (j, piece) in part.split("**").enumerate() {
                if j % 2 == 1 {
                    let _ = write!(out, "<strong>{piece}</strong>");
                } else {
                    out.push_str(piece);
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_childs_words_in_the_markdown_are_text_not_html_nor_terminal_commands() {
        let blocks = [
            Block::Table(
                vec!["row".into(), "reason".into()],
                vec![vec![
                    "ex_6_1 eager".into(),
                    "wrote a result for exercise '<img src=x onerror=alert(1)>'".into(),
                ]],
            ),
            Block::Para("p < 0.05, and `<b>` in a code span, and </script>".into()),
            Block::Code("\u{1b}]0;title\u{7}\u{1b}[2J\tpanicked".into()),
        ];
        let md = markdown(&blocks);
        assert!(md.contains("'\\<img src=x onerror=alert(1)>'"), "{md}");
        assert!(md.contains("p < 0.05"), "a lone < stays: {md}");
        assert!(md.contains("`<b>`"), "code spans are literal already: {md}");
        assert!(md.contains("\\</script>"), "{md}");
        assert!(!md.contains('\u{1b}') && !md.contains('\u{7}'), "{md:?}");
        assert!(md.contains("\\u{1b}[2J\tpanicked"), "{md}");
    }

    #[test]
    fn figures_keep_their_units_and_words_still_wrap() {
        assert_eq!(
            keep_units("1.22 ms ± 3 µs, needs 3.12+ so 2 sleeps"),
            "1.22\u{a0}ms ± 3\u{a0}µs, needs 3.12+ so 2 sleeps"
        );
        assert_eq!(keep_units("took 5 s."), "took 5\u{a0}s.");
    }

    #[test]
    fn tables_align_numbers_right_in_both_forms() {
        let blocks = [Block::Table(
            vec!["row".into(), ">p50".into()],
            vec![vec!["a|b".into(), "1 ms".into()]],
        )];
        assert_eq!(
            markdown(&blocks),
            "| row | p50 |\n|---|---:|\n| a\\|b | 1 ms |\n\n"
        );
        let page = html("t", &blocks);
        assert!(page.contains("<th class=\"num\">p50</th>"));
        assert!(page.contains("<td>a|b</td><td class=\"num\">1\u{a0}ms</td>"));
    }

    #[test]
    fn a_verdict_column_is_pinned_and_row_names_keep_their_spaces_in_a_span() {
        let claims = Block::Table(
            vec!["claim".into(), ">measured".into(), "holds".into()],
            vec![vec![
                "eager\u{a0}(current)".into(),
                "2×".into(),
                "yes".into(),
            ]],
        );
        let page = html("t", &[claims]);
        assert!(
            page.contains("<div class=\"table\"><table class=\"verdict\">"),
            "{page}"
        );
        assert!(page.contains(
            "<td><span class=\"name\">eager</span> <span class=\"name\">(current)</span></td>"
        ));
        // No verdict last: nothing pinned on the right; a name with plain spaces as it is.
        let plain = html(
            "t",
            &[Block::Table(
                vec!["row".into(), "holds".into(), ">p50".into()],
                vec![vec!["a b".into(), "yes".into(), "1 ms".into()]],
            )],
        );
        assert!(plain.contains("<div class=\"table\"><table>"), "{plain}");
        assert!(plain.contains("<td>a b</td>"), "{plain}");
    }

    #[test]
    fn html_escapes_text_and_keeps_code_spans() {
        let page = html("<t>", &[Block::Para("use `a<b` & **go**".into())]);
        assert!(page.contains("<title>&lt;t&gt;</title>"));
        assert!(page.contains("<p>use <code>a&lt;b</code> &amp; <strong>go</strong></p>"));
    }
}
