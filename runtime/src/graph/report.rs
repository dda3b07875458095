//! Rendering diagnostics as people read them: rustc-style snippets with the
//! offending place underlined and a `help:` line.

use annotate_snippets::{AnnotationKind, Group, Level, Renderer, Snippet};

use crate::graph::error::Diagnostic;
use crate::graph::load::GraphErrors;

impl GraphErrors {
    /// All diagnostics as text, with colours when `styled`.
    pub fn render(&self, styled: bool) -> String {
        let renderer = if styled { Renderer::styled() } else { Renderer::plain() };
        let mut text = String::new();
        for diagnostic in &self.diagnostics {
            text.push_str(&render_one(&renderer, &self.origin, &self.text, diagnostic));
            text.push_str("\n\n");
        }
        text
    }
}

fn render_one(renderer: &Renderer, origin: &str, source: &str, diagnostic: &Diagnostic) -> String {
    let title = diagnostic.error.to_string();
    let hint = diagnostic.error.hint();
    let mut group: Group<'_> = match diagnostic.span {
        Some(span) => {
            let start = span.offset.min(source.len());
            let end = (start + span.len).min(source.len()).max(start);
            Level::ERROR.primary_title(title.as_str()).element(
                Snippet::source(source)
                    .path(origin)
                    .annotation(AnnotationKind::Primary.span(start..end)),
            )
        }
        None => Level::ERROR
            .primary_title(title.as_str())
            .element(Level::NOTE.message(format!("in {origin}"))),
    };
    if let Some(hint) = hint.as_deref() {
        group = group.element(Level::HELP.message(hint));
    }
    renderer.render(&[group])
}
