use super::*;
use crate::document::{Site, text_of_blocks};
use crate::rules::Kind;

pub(crate) fn p(t: &str) -> Block {
    Block::Paragraph { text: t.into() }
}

fn h(t: &str) -> Block {
    Block::Heading { text: t.into() }
}

fn img(src: &str, caption: Option<&str>) -> Block {
    Block::Image {
        src: Some(src.into()),
        alt: None,
        caption: caption.map(str::to_string),
    }
}

pub(crate) fn doc(host: &str, blocks: Vec<Block>) -> Document {
    let text = text_of_blocks(&blocks);
    Document {
        line_type: crate::document::LineType::Record,
        schema_version: document::SCHEMA_VERSION,
        id: "0000000000000000".into(),
        url: format!("http://{host}/"),
        canonical_url: None,
        kind: Kind::Article,
        rule: "generic".into(),
        site: Site {
            host: Some(host.into()),
            name: None,
        },
        lang: Some("zh".into()),
        title: None,
        published_at: None,
        author: None,
        source: None,
        views: None,
        district: None,
        park: None,
        fields: Default::default(),
        blocks,
        items: Vec::new(),
        content_hash: document::content_hash(&text),
        text,
        removed: BTreeMap::from([("ui-text".to_string(), 2)]),
        provenance: BTreeMap::new(),
        input: None,
        fetch: None,
    }
}

pub(crate) const FOOTER: &str = "版权所有:某某经济开发区管委会 地址:某某路1号";
const FOLLOW: &str = "扫一扫关注";

/// The eight pages of one host the tests share: a footer and a follow line
/// on all, a shared heading with different text beneath on all, an own
/// body each, and page 3 repeating its own paragraph.
pub(crate) fn site(host: &str) -> Vec<Document> {
    (0..8)
        .map(|i| {
            let mut blocks = vec![
                h("园区简介"),
                p(&format!("第{i}个园区的简介,各不相同。")),
                p(&format!("第{i}篇正文。")),
            ];
            if i == 3 {
                blocks.push(p(&format!("第{i}篇正文。")));
            }
            blocks.extend([p(FOOTER), p(FOLLOW)]);
            doc(host, blocks)
        })
        .collect()
}

pub(crate) fn stats_of(docs: &[Document]) -> Stats {
    let mut s = Stats::new(RepeatedConfig::default());
    for d in docs {
        s.observe_doc(d);
    }
    s
}

#[test]
fn keys_normalise_whitespace_and_tell_kinds_apart() {
    assert_eq!(
        block_key(&p("扫一扫  关注\n")),
        block_key(&p(" 扫一扫 关注"))
    );
    assert_ne!(block_key(&p("园区简介")), block_key(&h("园区简介")));
    assert_ne!(
        block_key(&Block::Quote { text: "x".into() }),
        block_key(&p("x"))
    );
    // An image is its src: the same banner with another caption is the
    // same block.
    assert_eq!(
        block_key(&img("http://a.cn/logo.png", Some("园区"))),
        block_key(&img("http://a.cn/logo.png", None))
    );
    assert_ne!(
        block_key(&img("http://a.cn/logo.png", None)),
        block_key(&img("http://a.cn/banner.png", None))
    );
    // Item boundaries count.
    let list = |items: &[&str]| Block::List {
        items: items.iter().map(|s| s.to_string()).collect(),
    };
    assert_ne!(
        block_key(&list(&["a b", "c"])),
        block_key(&list(&["a", "b c"]))
    );
    // Nothing to recognise: no key.
    assert_eq!(block_key(&p("  \u{3000} ")), None);
    assert_eq!(
        block_key(&Block::Image {
            src: None,
            alt: Some("x".into()),
            caption: None
        }),
        None
    );
    assert_eq!(block_key(&list(&[])), None);
    // Stable across runs and releases (a crawl state keeps keys): the
    // first 8 bytes, little-endian, of SHA-256("paragraph\0扫一扫关注").
    assert_eq!(block_key(&p(FOLLOW)), Some(0x0f4a_64db_ce9a_ad2f));
    // The key is of the normalised text as one string: a list's items
    // joined by line breaks, a table's cells by tabs and rows by breaks.
    let joined = |kind: &str, text: &str| {
        use sha2::{Digest, Sha256};
        let d = Sha256::new()
            .chain_update(kind)
            .chain_update([0])
            .chain_update(text)
            .finalize();
        Some(u64::from_le_bytes(d[..8].try_into().unwrap()))
    };
    assert_eq!(
        block_key(&list(&[" 园区 简介 ", "", "a\tb"])),
        joined("list", "园区 简介\n\na b")
    );
    assert_eq!(block_key(&list(&["", " "])), None);
    let table = Block::Table {
        rows: vec![
            vec!["名称".into(), " 地址  上海 ".into()],
            vec![String::new(), "x".into()],
        ],
    };
    assert_eq!(block_key(&table), joined("table", "名称\t地址 上海\n\tx"));
    assert_eq!(block_key(&h(" 园区\n简介")), joined("heading", "园区 简介"));
}

#[test]
fn a_page_counts_once_per_key() {
    let mut s = Stats::new(RepeatedConfig::default());
    let page = [p("同一段"), p("同一段"), p("同一段"), p("另一段")];
    assert_eq!(page_keys(&page).len(), 2);
    s.observe("a.cn", &page_keys(&page));
    let k = block_key(&p("同一段")).unwrap();
    assert_eq!(s.host("a.cn").unwrap().keys[&k].pages, 1);
    assert_eq!(s.pages("a.cn"), 1);
}

#[test]
fn thresholds_at_their_edges() {
    let k = block_key(&p(FOOTER)).unwrap();
    let other = |i: usize| block_key(&p(&format!("正文{i}"))).unwrap();
    let mut s = Stats::new(RepeatedConfig::default());
    // Four pages all holding it: too few pages to judge.
    for i in 0..4 {
        s.observe("a.cn", &[k, other(i)]);
    }
    assert!(!s.qualifies("a.cn"));
    assert!(!s.is_repeated("a.cn", k));
    // The fifth page makes five: judged, and on 5 of 5.
    s.observe("a.cn", &[other(4)]);
    assert!(s.qualifies("a.cn"));
    assert!(s.is_repeated("a.cn", k), "on 4 of 5 pages");

    // Eight pages: on four (exactly half) is repeated, on three is not.
    let mut s = Stats::new(RepeatedConfig::default());
    let (four, three) = (other(100), other(101));
    for i in 0..8 {
        let mut keys = vec![other(i)];
        if i < 4 {
            keys.push(four);
        }
        if i < 3 {
            keys.push(three);
        }
        s.observe("a.cn", &keys);
    }
    assert!(s.is_repeated("a.cn", four));
    assert!(!s.is_repeated("a.cn", three));
    assert!(!s.is_repeated("a.cn", other(0)), "on one page");
    assert!(!s.is_repeated("b.cn", four), "another host knows nothing");

    // A share that is not exact in binary: 0.3 of 10 pages is 3 pages.
    let mut s = Stats::new(RepeatedConfig {
        min_pages: 10,
        share: 0.3,
    });
    for i in 0..10 {
        let keys = if i < 3 { vec![k] } else { vec![] };
        s.observe("a.cn", &keys);
    }
    assert!(s.is_repeated("a.cn", k));
}

#[test]
fn a_heading_goes_only_with_its_whole_section() {
    let t = true;
    let f = false;
    // Shared heading, own text beneath: the heading stays.
    let blocks = [h("园区简介"), p("own"), p(FOOTER)];
    assert_eq!(plan(&block_keys(&blocks), &[t, f, t]), [f, f, t]);
    // Shared heading whose whole section is shared: all go.
    let blocks = [p("own"), h("联系我们"), p(FOOTER), p(FOLLOW)];
    assert_eq!(plan(&block_keys(&blocks), &[f, t, t, t]), [f, t, t, t]);
    // A heading not repeated stays, even over a section that goes.
    assert_eq!(plan(&block_keys(&blocks), &[f, f, t, t]), [f, f, t, t]);
    // A heading directly over another heading stands or falls with it.
    let blocks = [h("园区简介"), h("基本情况"), p("own")];
    assert_eq!(plan(&block_keys(&blocks), &[t, t, f]), [f, f, f]);
    let blocks = [p("own"), h("更多"), h("联系我们"), p(FOOTER)];
    assert_eq!(plan(&block_keys(&blocks), &[f, t, t, t]), [f, t, t, t]);
    // A repeated heading ending the page introduces nothing: it goes.
    let blocks = [p("own"), h(FOLLOW)];
    assert_eq!(plan(&block_keys(&blocks), &[f, t]), [f, t]);
    // Sections are cut at every heading, dropped or not.
    let blocks = [h("A"), p(FOOTER), h("B"), p("own")];
    assert_eq!(plan(&block_keys(&blocks), &[t, t, t, f]), [t, t, f, f]);
    assert_eq!(plan(&[], &[]), Vec::<bool>::new());
}

#[test]
fn filter_drops_what_recurs_and_keeps_the_rest() {
    let pages = site("www.park-a.example.cn");
    let s = stats_of(&pages);
    let mut d = pages[3].clone();
    let n = s.filter(&mut d);
    assert_eq!(n, 2, "the footer and the follow line");
    assert_eq!(
        d.blocks,
        [
            h("园区简介"),
            p("第3个园区的简介,各不相同。"),
            p("第3篇正文。"),
            p("第3篇正文。"),
        ],
        "shared heading kept, within-page repeat kept"
    );
    assert_eq!(d.text, text_of_blocks(&d.blocks));
    assert_eq!(d.content_hash, document::content_hash(&d.text));
    assert!(!d.text.contains(FOOTER) && !d.text.contains(FOLLOW));
    assert_eq!(d.removed["repeated-block"], 2);
    assert_eq!(d.removed["ui-text"], 2, "other counts untouched");
    // Filtering again finds nothing more, and adds nothing to the count.
    assert_eq!(s.filter(&mut d), 0);
    assert_eq!(d.removed["repeated-block"], 2);

    // Everything else of the record is as it was.
    let mut before = pages[3].clone();
    before.blocks = d.blocks.clone();
    before.text = d.text.clone();
    before.content_hash = d.content_hash.clone();
    before.removed = d.removed.clone();
    assert_eq!(before, d);
}

#[test]
fn filter_leaves_small_hosts_and_hostless_records_alone() {
    let mut pages = site("www.park-a.example.cn");
    pages.truncate(4);
    let s = stats_of(&pages);
    let mut d = pages[0].clone();
    assert_eq!(s.filter(&mut d), 0);
    assert_eq!(d, pages[0]);

    let s = stats_of(&site("www.park-a.example.cn"));
    let mut d = site("www.park-a.example.cn").remove(0);
    d.site.host = None;
    let before = d.clone();
    assert_eq!(s.filter(&mut d), 0);
    assert_eq!(d, before);
}

#[test]
fn a_record_is_never_emptied() {
    // The same notice at many URLs: every block recurs.
    let pages: Vec<Document> = (0..6)
        .map(|_| doc("a.cn", vec![p("该信息已删除"), p(FOOTER)]))
        .collect();
    let s = stats_of(&pages);
    let mut d = pages[0].clone();
    assert_eq!(s.filter(&mut d), 0);
    assert_eq!(d, pages[0], "kept as it is");
    // A listing whose blocks are all chrome keeps its items: the chrome goes.
    d.items.push(crate::extract::items::Item {
        title: "新闻".into(),
        url: None,
        summary: None,
        date: None,
    });
    assert_eq!(s.filter(&mut d), 2);
    assert!(d.blocks.is_empty());
    assert_eq!(d.text, "");
    assert_eq!(d.content_hash, document::content_hash(""));
}

#[test]
fn the_count_is_exact_below_a_bucket_and_bounded_above() {
    let key = |s: &str| block_key(&p(s)).unwrap();
    let mut h = HostStats::default();
    for i in 0..BUCKET - 1 {
        h.observe(&[key("footer"), key(&format!("own {i}"))]);
    }
    // Below one bucket nothing is forgotten.
    assert_eq!(h.keys.len() as u64, BUCKET);
    assert_eq!(h.keys[&key("footer")].pages as u64, BUCKET - 1);

    // 10,000 pages: a footer on all, a line on 60%, one on 0.5%, and an
    // own paragraph each.
    let mut h = HostStats::default();
    let cfg = RepeatedConfig::default();
    let mut peak = 0;
    for i in 0..10_000u64 {
        let mut keys = vec![key("footer"), key(&format!("own {i}"))];
        if i % 5 < 3 {
            keys.push(key("sixty"));
        }
        if i % 200 == 0 {
            keys.push(key("rare"));
        }
        h.observe(&keys);
        peak = peak.max(h.keys.len());
    }
    assert_eq!(h.keys[&key("footer")].pages, 10_000);
    assert!(h.repeated(key("footer"), &cfg));
    let sixty = h.keys[&key("sixty")];
    assert_eq!(sixty.pages, 6_000, "never forgotten, so exact");
    assert!(h.repeated(key("sixty"), &cfg));
    assert!(!h.repeated(key("rare"), &cfg));
    assert!(!h.repeated(key("own 9999"), &cfg));
    // One-off paragraphs are forgotten: the table stays near two buckets
    // of them, not 10,000.
    assert!(peak <= 2 * BUCKET as usize + 3, "peak {peak} keys");
    assert!(!h.keys.contains_key(&key("own 5")));
}

#[test]
fn a_key_first_tracked_late_counts_with_its_slack() {
    let key = |s: &str| block_key(&p(s)).unwrap();
    let mut h = HostStats::default();
    for i in 0..2 * BUCKET {
        h.observe(&[key(&format!("own {i}"))]);
    }
    h.observe(&[key("late")]);
    assert_eq!(h.keys[&key("late")], Tally { pages: 1, slack: 2 });
}

#[test]
fn the_gate_holds_a_host_until_it_has_enough_pages() {
    let pages = site("www.park-a.example.cn");
    let mut g: Gate<usize> = Gate::new(Stats::new(RepeatedConfig::default()));
    for (i, d) in pages.iter().take(4).enumerate() {
        assert!(g.admit(d.clone(), i).is_empty(), "page {i} held");
    }
    // A record without a host passes at once, untouched.
    let mut lone = pages[0].clone();
    lone.site.host = None;
    let out = g.admit(lone.clone(), 99);
    assert_eq!(out, [(lone, 99)]);
    // The fifth page releases the four held before it, in order, filtered
    // with the statistics of five pages.
    let out = g.admit(pages[4].clone(), 4);
    assert_eq!(
        out.iter().map(|(_, t)| *t).collect::<Vec<_>>(),
        [0, 1, 2, 3, 4]
    );
    for (d, _) in &out {
        assert_eq!(d.removed["repeated-block"], 2, "{}", d.text);
        assert!(d.text.contains("园区简介"));
    }
    // Later pages pass at once.
    let out = g.admit(pages[5].clone(), 5);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].0.removed["repeated-block"], 2);
    assert_eq!(g.removed.blocks, 12);
    assert_eq!(g.removed.records, 6);
    assert_eq!(g.removed.hosts.len(), 1);
}

#[test]
fn the_gate_releases_a_small_host_when_its_pages_run_out() {
    let pages = site("small.example.cn");
    let mut g: Gate<usize> = Gate::new(Stats::new(RepeatedConfig::default()));
    assert!(g.admit(pages[0].clone(), 0).is_empty());
    assert!(g.admit(pages[1].clone(), 1).is_empty());
    let other = site("other.example.cn");
    assert!(g.admit(other[0].clone(), 10).is_empty());
    assert!(g.holding("small.example.cn"));
    // Too few pages: released as they came.
    let out = g.host_done("small.example.cn");
    assert_eq!(out, [(pages[0].clone(), 0), (pages[1].clone(), 1)]);
    assert!(!g.holding("small.example.cn"));
    assert!(g.host_done("small.example.cn").is_empty());
    // The end of the crawl releases the rest.
    assert_eq!(g.finish(), [(other[0].clone(), 10)]);
    assert!(g.finish().is_empty());
    assert_eq!(g.removed, Removed::default());
    assert_eq!(g.removed.summary(), None);
}

#[test]
fn statistics_known_before_need_no_warm_up() {
    let pages = site("www.park-a.example.cn");
    let known = stats_of(&pages[..5]);
    let mut g: Gate<()> = Gate::new(known);
    let out = g.admit(pages[5].clone(), ());
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].0.removed["repeated-block"], 2);
    assert_eq!(
        g.removed.summary().unwrap(),
        "parkcrawl: 2 repeated block(s) removed from 1 record(s) of 1 host(s) (`repeated-block`; --keep-repeated keeps them)"
    );
}

#[test]
fn only_hosts_holding_nothing_are_settled() {
    let a = site("a.example.cn");
    let b = site("b.example.cn");
    let mut g: Gate<()> = Gate::new(Stats::new(RepeatedConfig::default()));
    for d in &a[..5] {
        g.admit(d.clone(), ());
    }
    g.admit(b[0].clone(), ());
    // a has released all it counted; b holds its first page.
    assert_eq!(g.take_settled(), ["a.example.cn"]);
    assert!(g.take_settled().is_empty(), "nothing changed since");
    g.admit(a[5].clone(), ());
    assert_eq!(g.take_settled(), ["a.example.cn"]);
    g.finish();
    assert_eq!(g.take_settled(), ["b.example.cn"]);
}

#[test]
fn the_decision_needs_only_the_keys() {
    let pages = site("www.park-a.example.cn");
    let s = stats_of(&pages);
    for d in &pages {
        let mut filtered = d.clone();
        let n = s.filter(&mut filtered);
        let drop = s
            .drops(d.site.host.as_deref(), &block_keys(&d.blocks), false)
            .unwrap();
        assert_eq!(drop.iter().filter(|x| **x).count() as u64, n);
        let mut applied = d.clone();
        assert_eq!(apply(&mut applied, &drop), n);
        assert_eq!(applied, filtered);
    }
    // Nothing to drop: no decision to act on.
    let b = block_keys(&[p("独有的一段")]);
    assert_eq!(s.drops(Some("www.park-a.example.cn"), &b, false), None);
    assert_eq!(s.drops(None, &b, false), None);
    assert_eq!(s.drops(Some("other.cn"), &b, false), None);
}
