//! An on-demand lexer for the Prisma schema language.
//!
//! Tokens are produced one at a time (the parser peeks one ahead), so a huge
//! input never becomes a huge token vector, and the parser can skip the
//! rest of a bad line in one step ([`Lexer::skip_line`]). Spaces and tabs
//! are skipped; newlines are tokens, because Prisma's grammar is line based.

/// What a token is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TokenKind {
    /// `[A-Za-z0-9][A-Za-z0-9_-]*` that is not a number.
    Ident,
    /// `-?[0-9]+(\.[0-9]+)?`
    Number,
    /// A complete `"..."` string.
    String,
    /// A string without its closing quote before the end of the line.
    UnterminatedString,
    /// `// ...` up to the end of the line.
    LineComment,
    /// `/// ...` up to the end of the line.
    DocComment,
    /// `/* ... */`, possibly across lines.
    BlockComment,
    /// `/*` without `*/`.
    UnterminatedBlockComment,
    Newline,
    LBrace,
    RBrace,
    LParen,
    RParen,
    LBracket,
    RBracket,
    Comma,
    Colon,
    Equals,
    Question,
    Bang,
    At,
    AtAt,
    Dot,
    /// Any other character.
    Unknown,
    Eof,
}

/// A token: kind and byte range.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Token {
    pub kind: TokenKind,
    pub start: usize,
    pub end: usize,
}

/// The lexer over one file's text.
pub(crate) struct Lexer<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
    peeked: Option<Token>,
}

fn is_ident_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'-'
}

impl<'a> Lexer<'a> {
    pub fn new(text: &'a str) -> Self {
        Lexer {
            text,
            bytes: text.as_bytes(),
            pos: 0,
            peeked: None,
        }
    }

    /// The text of a token.
    pub fn slice(&self, t: Token) -> &'a str {
        &self.text[t.start..t.end]
    }

    /// The whole source text.
    pub fn text(&self) -> &'a str {
        self.text
    }

    /// The next token, without consuming it.
    pub fn peek(&mut self) -> Token {
        if let Some(t) = self.peeked {
            return t;
        }
        let t = self.lex();
        self.peeked = Some(t);
        t
    }

    /// Consumes and returns the next token.
    pub fn next_token(&mut self) -> Token {
        match self.peeked.take() {
            Some(t) => t,
            None => self.lex(),
        }
    }

    /// Consumes the next token if it has this kind.
    pub fn eat(&mut self, kind: TokenKind) -> Option<Token> {
        if self.peek().kind == kind {
            Some(self.next_token())
        } else {
            None
        }
    }

    /// Byte offset where the next token would start (after the peeked one
    /// if any has been peeked: use before peeking).
    pub fn offset(&self) -> usize {
        self.peeked.map(|t| t.start).unwrap_or(self.pos)
    }

    /// Skips everything up to (not including) the next newline, starting at
    /// the peeked token if any. Returns the byte range skipped.
    pub fn skip_line(&mut self) -> (usize, usize) {
        let start = self.offset();
        self.peeked = None;
        let rest = &self.bytes[start..];
        let len = rest
            .iter()
            .position(|&b| b == b'\n' || b == b'\r')
            .unwrap_or(rest.len());
        self.pos = start + len;
        (start, self.pos)
    }

    /// Skips up to and including the next `}` at the start of a token
    /// position (used for blocks without a keyword). Returns the end offset.
    pub fn skip_past_close_brace(&mut self) -> usize {
        let start = self.offset();
        self.peeked = None;
        let rest = &self.bytes[start..];
        self.pos = match rest.iter().position(|&b| b == b'}') {
            Some(i) => start + i + 1,
            None => self.bytes.len(),
        };
        self.pos
    }

    fn lex(&mut self) -> Token {
        let b = self.bytes;
        while self.pos < b.len() && (b[self.pos] == b' ' || b[self.pos] == b'\t') {
            self.pos += 1;
        }
        let start = self.pos;
        if start >= b.len() {
            return Token {
                kind: TokenKind::Eof,
                start,
                end: start,
            };
        }
        let c = b[start];
        let (kind, len) = match c {
            b'\n' => (TokenKind::Newline, 1),
            b'\r' => (
                TokenKind::Newline,
                if b.get(start + 1) == Some(&b'\n') {
                    2
                } else {
                    1
                },
            ),
            b'{' => (TokenKind::LBrace, 1),
            b'}' => (TokenKind::RBrace, 1),
            b'(' => (TokenKind::LParen, 1),
            b')' => (TokenKind::RParen, 1),
            b'[' => (TokenKind::LBracket, 1),
            b']' => (TokenKind::RBracket, 1),
            b',' => (TokenKind::Comma, 1),
            b':' => (TokenKind::Colon, 1),
            b'=' => (TokenKind::Equals, 1),
            b'?' => (TokenKind::Question, 1),
            b'!' => (TokenKind::Bang, 1),
            b'.' => (TokenKind::Dot, 1),
            b'@' => {
                if b.get(start + 1) == Some(&b'@') {
                    (TokenKind::AtAt, 2)
                } else {
                    (TokenKind::At, 1)
                }
            }
            b'"' => self.lex_string(start),
            b'/' if b.get(start + 1) == Some(&b'/') => {
                let len = self.line_len(start);
                if b.get(start + 2) == Some(&b'/') {
                    (TokenKind::DocComment, len)
                } else {
                    (TokenKind::LineComment, len)
                }
            }
            b'/' if b.get(start + 1) == Some(&b'*') => match find(&b[start + 2..], b"*/") {
                Some(i) => (TokenKind::BlockComment, i + 4),
                None => (TokenKind::UnterminatedBlockComment, b.len() - start),
            },
            b'-' if b.get(start + 1).is_some_and(|d| d.is_ascii_digit()) => {
                let (kind, len) = self.lex_word(start + 1);
                match kind {
                    TokenKind::Number => (TokenKind::Number, len + 1),
                    _ => (TokenKind::Unknown, 1),
                }
            }
            c if c.is_ascii_alphanumeric() => self.lex_word(start),
            _ => {
                // one whole UTF-8 character: a letter starts a word
                match self.text[start..].chars().next() {
                    Some(ch) if ch.is_alphanumeric() => self.lex_word(start),
                    Some(ch) => (TokenKind::Unknown, ch.len_utf8()),
                    None => (TokenKind::Unknown, 1),
                }
            }
        };
        self.pos = start + len;
        Token {
            kind,
            start,
            end: self.pos,
        }
    }

    fn line_len(&self, start: usize) -> usize {
        self.bytes[start..]
            .iter()
            .position(|&b| b == b'\n' || b == b'\r')
            .unwrap_or(self.bytes.len() - start)
    }

    /// An identifier, or a number when the word is `digits(.digits)?`.
    fn lex_word(&self, start: usize) -> (TokenKind, usize) {
        let b = self.bytes;
        let mut end = start;
        while end < b.len() {
            if is_ident_char(b[end]) {
                end += 1;
            } else if b[end] >= 0x80 {
                match self.text[end..].chars().next() {
                    Some(ch) if ch.is_alphanumeric() => end += ch.len_utf8(),
                    _ => break,
                }
            } else {
                break;
            }
        }
        let word = &b[start..end];
        if word.iter().all(u8::is_ascii_digit) {
            // a decimal part?
            if b.get(end) == Some(&b'.') && b.get(end + 1).is_some_and(u8::is_ascii_digit) {
                let mut frac = end + 1;
                while frac < b.len() && b[frac].is_ascii_digit() {
                    frac += 1;
                }
                if !b.get(frac).is_some_and(|&c| is_ident_char(c)) {
                    return (TokenKind::Number, frac - start);
                }
            }
            return (TokenKind::Number, end - start);
        }
        (TokenKind::Ident, end - start)
    }

    fn lex_string(&self, start: usize) -> (TokenKind, usize) {
        let b = self.bytes;
        let mut i = start + 1;
        while i < b.len() {
            match b[i] {
                b'"' => return (TokenKind::String, i + 1 - start),
                b'\\' if i + 1 < b.len() && b[i + 1] != b'\n' && b[i + 1] != b'\r' => i += 2,
                b'\n' | b'\r' => break,
                _ => i += 1,
            }
        }
        (TokenKind::UnterminatedString, i.min(b.len()) - start)
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Unescapes the inside of a string literal (JSON escapes). Returns the
/// value and, for a bad escape, its byte offset within `raw` and a message.
pub(crate) fn unescape(raw: &str) -> (String, Option<(usize, String)>) {
    let mut out = String::with_capacity(raw.len());
    let mut error = None;
    let mut chars = raw.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let Some((_, e)) = chars.next() else {
            break;
        };
        match e {
            '"' => out.push('"'),
            '\\' => out.push('\\'),
            '/' => out.push('/'),
            'b' => out.push('\u{8}'),
            'f' => out.push('\u{c}'),
            'n' => out.push('\n'),
            'r' => out.push('\r'),
            't' => out.push('\t'),
            'u' => {
                let hex: String = raw[i + 2..].chars().take(4).collect();
                match (hex.len() == 4)
                    .then(|| u32::from_str_radix(&hex, 16).ok())
                    .flatten()
                {
                    Some(code) => {
                        for _ in 0..4 {
                            chars.next();
                        }
                        out.push(char::from_u32(code).unwrap_or('\u{FFFD}'));
                    }
                    None => {
                        error.get_or_insert((i, "invalid unicode escape sequence".to_string()));
                    }
                }
            }
            other => {
                error.get_or_insert((i, format!("unknown escape sequence `\\{other}`")));
                out.push(other);
            }
        }
    }
    (out, error)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> Vec<(TokenKind, String)> {
        let mut l = Lexer::new(text);
        let mut out = Vec::new();
        loop {
            let t = l.next_token();
            if t.kind == TokenKind::Eof {
                break;
            }
            out.push((t.kind, l.slice(t).to_string()));
        }
        out
    }

    #[test]
    fn lexes_a_field_line() {
        use TokenKind::*;
        let toks = kinds("  id String @db.VarChar(64) // hi\n");
        let k: Vec<_> = toks.iter().map(|t| t.0).collect();
        assert_eq!(
            k,
            [
                Ident,
                Ident,
                At,
                Ident,
                Dot,
                Ident,
                LParen,
                Number,
                RParen,
                LineComment,
                Newline
            ]
        );
        assert_eq!(toks[9].1, "// hi");
    }

    #[test]
    fn strings_hold_braces_and_comment_markers() {
        let toks = kinds(r#"@default("} // @ \" x")"#);
        assert_eq!(toks[3], (TokenKind::String, r#""} // @ \" x""#.into()));
        assert_eq!(unescape(r#"} // @ \" x"#).0, r#"} // @ " x"#);
    }

    #[test]
    fn non_ascii_identifiers() {
        let toks = kinds("lööps String");
        assert_eq!(toks[0], (TokenKind::Ident, "lööps".into()));
    }

    #[test]
    fn numbers_and_words() {
        use TokenKind::*;
        let k: Vec<_> = kinds("-1 3.14 1e10 2x a-b")
            .into_iter()
            .map(|t| t.0)
            .collect();
        assert_eq!(k, [Number, Number, Ident, Ident, Ident]);
    }

    #[test]
    fn comments_of_each_kind() {
        use TokenKind::*;
        let k: Vec<_> = kinds("/// d\n/* a\n b */ // c\n/* open")
            .into_iter()
            .map(|t| t.0)
            .collect();
        assert_eq!(
            k,
            [
                DocComment,
                Newline,
                BlockComment,
                LineComment,
                Newline,
                UnterminatedBlockComment
            ]
        );
    }

    #[test]
    fn unterminated_string_stops_at_line_end() {
        let toks = kinds("\"abc\nx");
        assert_eq!(toks[0], (TokenKind::UnterminatedString, "\"abc".into()));
        assert_eq!(toks[2], (TokenKind::Ident, "x".into()));
    }

    #[test]
    fn unescape_handles_unicode_and_reports_bad_escapes() {
        assert_eq!(unescape(r"\u00e9\n").0, "é\n");
        assert!(unescape(r"\q").1.is_some());
        assert!(unescape(r"\u12").1.is_some());
    }

    #[test]
    fn skip_line_is_one_step() {
        let mut l = Lexer::new("{{{{{{\nx");
        l.peek();
        assert_eq!(l.skip_line(), (0, 6));
        assert_eq!(l.next_token().kind, TokenKind::Newline);
    }
}
