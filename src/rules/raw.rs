//! The rule file as written: every key optional, unknown keys rejected, so a
//! typo in a rule is an error rather than a silently ignored setting.

use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRule {
    pub id: String,
    pub name: Option<String>,
    pub timezone: Option<String>,
    #[serde(default, rename = "match")]
    pub matching: RawMatch,
    #[serde(default)]
    pub kinds: RawKinds,
    #[serde(default)]
    pub selectors: RawSelectors,
    #[serde(default)]
    pub labels: RawLabels,
    #[serde(default)]
    pub boilerplate: Vec<RawBoilerplate>,
    pub park: Option<RawPark>,
    #[serde(default)]
    pub district: Vec<RawDistrict>,
    #[serde(default)]
    pub crawl: RawCrawl,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawMatch {
    #[serde(default)]
    pub hosts: Vec<String>,
    #[serde(default)]
    pub signatures: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawKinds {
    #[serde(default)]
    pub article: Vec<String>,
    #[serde(default)]
    pub park: Vec<String>,
    #[serde(default)]
    pub district: Vec<String>,
    #[serde(default)]
    pub page: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSelectors {
    #[serde(default)]
    pub content: Vec<String>,
    #[serde(default)]
    pub title: Vec<String>,
    #[serde(default)]
    pub header: Vec<String>,
    #[serde(default)]
    pub drop: Vec<String>,
    #[serde(default)]
    pub fields: Vec<String>,
    #[serde(default)]
    pub items: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLabels {
    #[serde(default)]
    pub date: Vec<String>,
    #[serde(default)]
    pub source: Vec<String>,
    #[serde(default)]
    pub author: Vec<String>,
    #[serde(default)]
    pub views: Vec<String>,
    #[serde(default)]
    pub editor: Vec<String>,
    #[serde(default)]
    pub noise: Vec<String>,
    #[serde(default)]
    pub clock: Vec<String>,
    #[serde(default)]
    pub field: Vec<String>,
    #[serde(default)]
    pub district_field: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawBoilerplate {
    pub name: String,
    pub pattern: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPark {
    pub url: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDistrict {
    pub name: String,
    #[serde(default)]
    pub aliases: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCrawl {
    #[serde(default)]
    pub seeds: Vec<String>,
    #[serde(default)]
    pub follow: Vec<String>,
    #[serde(default)]
    pub avoid: Vec<String>,
    pub rate: Option<f64>,
    pub per_host: Option<usize>,
    #[serde(default)]
    pub strip_params: Vec<String>,
}
