//! The demo data of `koers serve --demo`: the example files, compiled into the binary, and
//! the calendars of KC Balans and Heidevlinder.

use chrono::{NaiveDate, NaiveDateTime};
use koers_engine::Engine;
use koers_engine::import::import_str;
use koers_engine::schedule::Scope;
use koers_engine::schedule::template::TemplateOptions;

const EXAMPLES: [(&str, &str); 3] = [
    ("kc-balans.toml", include_str!("../workflows/examples/kc-balans.toml")),
    ("heidevlinder.toml", include_str!("../workflows/examples/heidevlinder.toml")),
    ("de-klinkert.toml", include_str!("../workflows/examples/de-klinkert.toml")),
];

/// The five Evaluatie & Planningsdagen of KC Balans in the school year 2026-2027.
const EP_DAGEN: [&str; 5] =
    ["2026-09-21T08:30", "2026-11-16T08:30", "2027-02-08T08:30", "2027-04-12T08:30", "2027-06-21T08:30"];

fn date(text: &str) -> NaiveDate {
    text.parse().unwrap_or(NaiveDate::MIN)
}

/// Imports the examples into an empty database and applies their calendars; a database
/// with data is left alone.
pub async fn load(engine: &Engine) -> koers_engine::Result<()> {
    if !engine.is_empty().await? {
        tracing::info!("database has data; demo data not loaded");
        return Ok(());
    }
    for (name, source) in EXAMPLES {
        import_str(engine.db(), name, source).await?;
    }
    let school_year = TemplateOptions {
        active_from: Some(date("2026-08-01")),
        active_until: Some(date("2027-07-31")),
        ..TemplateOptions::default()
    };
    if let Some(balans) = engine.kindcentrum_by_key("kc-balans").await? {
        let balans = Scope::Kindcentrum(balans.id);
        let dates = EP_DAGEN.iter().filter_map(|d| NaiveDateTime::parse_from_str(d, "%Y-%m-%dT%H:%M").ok()).collect();
        engine.apply_template("ep-dag", balans, TemplateOptions { dates, ..school_year.clone() }).await?;
        engine.apply_template("groepsbespreking", balans, school_year).await?;
    }
    if let Some(heidevlinder) = engine.kindcentrum_by_key("heidevlinder").await? {
        let heidevlinder = Scope::Kindcentrum(heidevlinder.id);
        let from_2026 = TemplateOptions { active_from: Some(date("2026-01-01")), ..TemplateOptions::default() };
        for template in ["welbevinden-scan", "intervisie", "coaching-ikk"] {
            engine.apply_template(template, heidevlinder, from_2026.clone()).await?;
        }
    }
    tracing::info!("demo data loaded: KC Balans, Heidevlinder and De Klinkert");
    Ok(())
}
