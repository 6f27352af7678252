//! `cargo xtask cycles`: the crate's modules must form a one-way graph. Reads the module tree
//! from `src/lib.rs` and `src/main.rs` (following `mod` declarations and `#[path]`), takes an
//! edge A -> B wherever module A names module B (`use crate::b::..`, `super::b`, a child's
//! name, or an inline `crate::b::item`; comments and string literals are skipped), and
//! reports every strongly connected component of more than one module. A module's use of its
//! own ancestors (`super::Config` in a room's session file) is the module tree itself, not an
//! edge; everything else (siblings, cousins, another tree) must point one way.
//!
//! Why not `cargo modules dependencies --acyclic`: it builds rust-analyzer (minutes of compile
//! in every fresh CI run) to answer a question about `use` paths, which this file answers from
//! the source text in milliseconds. What it does not see: items re-exported under another
//! name and glob imports of a sibling (`use super::x::*`), neither of which the crate uses
//! across modules.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// One module: its path (`crate::core::mlp`) and the modules it names.
#[derive(Debug, Default)]
struct Module {
    children: BTreeSet<String>,
    /// Paths of its `use` trees.
    uses: Vec<Vec<String>>,
    /// Other qualified paths in its code (`crate::a::b`, `plot::depth::f`).
    inline: Vec<Vec<String>>,
    text_of: PathBuf,
}

type Graph = BTreeMap<String, Module>;

/// Every cycle among the modules of the crate rooted at `root` (`src/lib.rs`), each as the
/// sorted list of its modules.
pub fn cycles(root: &Path) -> Result<(usize, usize, Vec<Vec<String>>), String> {
    let mut graph = Graph::new();
    load(&mut graph, "crate".into(), root)?;
    let edges = edges(&graph);
    let count = edges.values().map(BTreeSet::len).sum();
    Ok((graph.len(), count, components(&edges)))
}

fn load(graph: &mut Graph, name: String, file: &Path) -> Result<(), String> {
    let text = std::fs::read_to_string(file).map_err(|e| format!("{}: {e}", file.display()))?;
    let code = strip(&text, false);
    let dir = match file.file_name().and_then(|f| f.to_str()) {
        Some("mod.rs" | "lib.rs" | "main.rs") => {
            file.parent().unwrap_or(Path::new("")).to_path_buf()
        }
        _ => file.with_extension(""),
    };
    let mut module = Module {
        text_of: file.to_path_buf(),
        ..Module::default()
    };
    let mut children = Vec::new();
    let mut path_attr: Option<String> = None;
    for line in strip(&text, true).lines() {
        let line = line.trim();
        if let Some(rest) = line.strip_prefix("#[path = ") {
            path_attr = rest
                .trim_end_matches(']')
                .trim_matches('"')
                .to_string()
                .into();
            continue;
        }
        if let Some(child) = mod_declaration(line) {
            let file = match path_attr.take() {
                Some(p) => file.parent().unwrap_or(Path::new("")).join(p),
                None if dir.join(format!("{child}.rs")).exists() => dir.join(format!("{child}.rs")),
                None => dir.join(&child).join("mod.rs"),
            };
            children.push((child, file));
        } else if !line.starts_with("#[") {
            path_attr = None;
        }
    }
    (module.uses, module.inline) = named_paths(&code);
    module.children = children.iter().map(|(c, _)| c.clone()).collect();
    graph.insert(name.clone(), module);
    for (child, file) in children {
        load(graph, format!("{name}::{child}"), &file)?;
    }
    Ok(())
}

/// `mod x;` (with any visibility), not an inline `mod x { .. }`.
fn mod_declaration(line: &str) -> Option<String> {
    let line = line
        .strip_prefix("pub(crate) ")
        .or_else(|| line.strip_prefix("pub "))
        .unwrap_or(line);
    let name = line.strip_prefix("mod ")?.strip_suffix(';')?;
    name.chars()
        .all(|c| c.is_alphanumeric() || c == '_')
        .then(|| name.to_string())
}

/// The source without comments, and without the insides of string literals unless
/// `keep_strings`.
fn strip(text: &str, keep_strings: bool) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '/' if chars.peek() == Some(&'/') => {
                for c in chars.by_ref() {
                    if c == '\n' {
                        out.push('\n');
                        break;
                    }
                }
            }
            '/' if chars.peek() == Some(&'*') => {
                chars.next();
                let mut last = ' ';
                for c in chars.by_ref() {
                    if last == '*' && c == '/' {
                        break;
                    }
                    last = c;
                }
            }
            '"' if !keep_strings => {
                out.push_str("\"\"");
                let mut escaped = false;
                for c in chars.by_ref() {
                    if c == '\n' {
                        out.push('\n');
                    }
                    if !escaped && c == '"' {
                        break;
                    }
                    escaped = !escaped && c == '\\';
                }
            }
            _ => out.push(c),
        }
    }
    out
}

/// Every path the code names: `use` trees expanded, and the other qualified paths.
fn named_paths(code: &str) -> (Vec<Vec<String>>, Vec<Vec<String>>) {
    let mut paths = Vec::new();
    let mut rest = code;
    while let Some(at) = find_word(rest, "use ") {
        let after = &rest[at + 4..];
        let end = after.find(';').unwrap_or(after.len());
        expand(&after[..end], &mut Vec::new(), &mut paths);
        rest = &after[end..];
    }
    let inline = code
        .split(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
        .filter(|w| w.contains("::") && !w.starts_with("::"))
        .map(|w| {
            w.split("::")
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect()
        })
        .collect();
    (paths, inline)
}

fn find_word(text: &str, word: &str) -> Option<usize> {
    let mut from = 0;
    while let Some(i) = text[from..].find(word) {
        let at = from + i;
        let before = text[..at].chars().next_back();
        if before.is_none_or(|c| !(c.is_alphanumeric() || c == '_')) {
            return Some(at);
        }
        from = at + word.len();
    }
    None
}

/// Expands a use tree (`a::{b, c::{d, e}}`) into its paths.
fn expand(tree: &str, prefix: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
    let tree = tree.trim();
    match tree.find('{') {
        None => {
            let mut path = prefix.clone();
            let head = tree.split(" as ").next().unwrap_or(tree);
            path.extend(
                head.split("::")
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty()),
            );
            out.push(path);
        }
        Some(open) => {
            let head = &tree[..open];
            let close = tree.rfind('}').unwrap_or(tree.len());
            let depth = prefix.len();
            prefix.extend(
                head.split("::")
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty()),
            );
            for part in split_top(&tree[open + 1..close]) {
                expand(part, prefix, out);
            }
            prefix.truncate(depth);
        }
    }
}

/// Splits at the commas outside braces.
fn split_top(list: &str) -> Vec<&str> {
    let (mut parts, mut depth, mut start) = (Vec::new(), 0, 0);
    for (i, c) in list.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&list[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&list[start..]);
    parts.into_iter().filter(|p| !p.trim().is_empty()).collect()
}

/// Module -> the modules it names, leaving out itself and its ancestors: a module may use the
/// items of the modules it lives in (`super::Config`, a room's shared helpers), as Rust's
/// scoping intends; every other pair of modules must point one way.
fn edges(graph: &Graph) -> BTreeMap<String, BTreeSet<String>> {
    let mut edges = BTreeMap::new();
    for (name, module) in graph {
        let mut targets = BTreeSet::new();
        // A name a `use` brings into scope stands for its path (`use crate::plot;` then
        // `plot::depth::f`).
        let aliases: BTreeMap<&str, &Vec<String>> = module
            .uses
            .iter()
            .filter_map(|p| Some((p.last()?.as_str(), p)))
            .collect();
        let inline = module
            .inline
            .iter()
            .map(|path| match aliases.get(path[0].as_str()) {
                Some(full) if full.len() > 1 => [full.as_slice(), &path[1..]].concat(),
                _ => path.clone(),
            });
        for path in module.uses.iter().cloned().chain(inline) {
            if let Some(target) = resolve(graph, name, &path)
                && &target != name
                && !name.starts_with(&format!("{target}::"))
            {
                targets.insert(target);
            }
        }
        edges.insert(name.clone(), targets);
    }
    edges
}

/// The deepest module a path walks through, from module `at`.
fn resolve(graph: &Graph, at: &str, path: &[String]) -> Option<String> {
    let mut segments = path.iter().peekable();
    let mut current = match segments.peek()?.as_str() {
        "crate" => {
            segments.next();
            "crate".to_string()
        }
        "self" => {
            segments.next();
            at.to_string()
        }
        "super" => {
            let mut current = at.to_string();
            while segments.peek().is_some_and(|s| s.as_str() == "super") {
                segments.next();
                current = current.rsplit_once("::")?.0.to_string();
            }
            current
        }
        first if graph.get(at)?.children.contains(first) => at.to_string(),
        _ => return None,
    };
    for segment in segments {
        if graph.get(&current)?.children.contains(segment.as_str()) {
            current = format!("{current}::{segment}");
        } else {
            break;
        }
    }
    Some(current)
}

/// Strongly connected components of more than one module (Tarjan's algorithm).
fn components(edges: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    struct State<'a> {
        edges: &'a BTreeMap<String, BTreeSet<String>>,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on_stack: BTreeSet<&'a str>,
        found: Vec<Vec<String>>,
    }
    fn visit<'a>(s: &mut State<'a>, v: &'a str) {
        let i = s.index.len();
        s.index.insert(v, i);
        s.low.insert(v, i);
        s.stack.push(v);
        s.on_stack.insert(v);
        for w in s.edges.get(v).into_iter().flatten() {
            let w = w.as_str();
            if !s.index.contains_key(w) {
                visit(s, w);
                let low = s.low[v].min(s.low[w]);
                s.low.insert(v, low);
            } else if s.on_stack.contains(w) {
                let low = s.low[v].min(s.index[w]);
                s.low.insert(v, low);
            }
        }
        if s.low[v] == s.index[v] {
            let mut component = Vec::new();
            while let Some(w) = s.stack.pop() {
                s.on_stack.remove(w);
                component.push(w.to_string());
                if w == v {
                    break;
                }
            }
            if component.len() > 1 {
                component.sort();
                s.found.push(component);
            }
        }
    }
    let mut state = State {
        edges,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        found: Vec::new(),
    };
    for v in edges.keys() {
        if !state.index.contains_key(v.as_str()) {
            visit(&mut state, v);
        }
    }
    state.found
}

/// The edges inside one cycle, to say where it closes (`a -> b (in src/a.rs)`).
pub fn explain(root: &Path, cycle: &[String]) -> Vec<String> {
    let mut graph = Graph::new();
    if load(&mut graph, "crate".into(), root).is_err() {
        return Vec::new();
    }
    let edges = edges(&graph);
    let mut lines = Vec::new();
    for from in cycle {
        for to in edges.get(from).into_iter().flatten() {
            if cycle.contains(to) {
                let file = graph.get(from).map(|m| m.text_of.display().to_string());
                lines.push(format!("{from} -> {to} (in {})", file.unwrap_or_default()));
            }
        }
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::cycles;

    /// A crate in a temporary folder: `(file, text)` pairs, `lib.rs` first.
    fn crate_of(name: &str, files: &[(&str, &str)]) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("xtask-cycles-{name}-{}", std::process::id()));
        for (file, text) in files {
            let path = dir.join(file);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        dir.join("lib.rs")
    }

    #[test]
    fn siblings_that_import_each_other_are_a_cycle() {
        let root = crate_of(
            "siblings",
            &[
                ("lib.rs", "pub mod a;\npub mod b;\n"),
                ("a.rs", "use crate::b::Thing;\n"),
                // Through an alias, and not fooled by comments or strings.
                (
                    "b.rs",
                    "use crate::a;\n// crate::c\nfn f() { a::g(); let s = \"crate::c\"; }\n",
                ),
            ],
        );
        let (modules, _, found) = cycles(&root).unwrap();
        assert_eq!(modules, 3);
        assert_eq!(
            found,
            vec![vec!["crate::a".to_string(), "crate::b".to_string()]]
        );
    }

    #[test]
    fn a_child_may_use_its_parent() {
        let root = crate_of(
            "child",
            &[
                ("lib.rs", "pub mod room;\n"),
                (
                    "room/mod.rs",
                    "pub mod session;\npub struct Config;\nuse session::Run;\n",
                ),
                ("room/session.rs", "use super::Config;\npub struct Run;\n"),
            ],
        );
        let (_, edges, found) = cycles(&root).unwrap();
        assert_eq!((edges, found.len()), (1, 0));
    }
}
