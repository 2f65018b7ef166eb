//! The demo data of `koers serve --demo`: the example files, compiled into the binary, and
//! the calendars of KC Balans and Heidevlinder.

use chrono::{NaiveDate, NaiveDateTime};
use koers_engine::Engine;
use koers_engine::auth::{AccessRole, AccessScope, NewToken};
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

/// Fresh demo tokens, one per role, each within a scope of the demo data; the tokens of
/// an earlier start are revoked, and logged with their ids. Roles whose scope is not in
/// the database are skipped.
pub async fn tokens(engine: &Engine) -> koers_engine::Result<Vec<(AccessRole, AccessScope, NewToken)>> {
    let mut revoked = Vec::new();
    for old in engine.tokens().await? {
        if old.name.starts_with(DEMO) && old.revoked_at.is_none() {
            engine.revoke_token(old.id).await?;
            revoked.push(old.id.to_string());
        }
    }
    if !revoked.is_empty() {
        tracing::info!(ids = %revoked.join(", "), "revoked the demo tokens of the previous start");
    }
    let kindcentrum = |key: &'static str| async move {
        Ok::<_, koers_engine::Error>(engine.kindcentrum_by_key(key).await?.map(|k| k.id))
    };
    let heidevlinder: Vec<i64> = kindcentrum("heidevlinder").await?.into_iter().collect();
    let lucas = engine.bestuur_by_key("lucas-onderwijs").await?;
    let locatie = engine.locaties_of(&heidevlinder).await?.into_values().flatten().next();
    let team = engine.teams_of(&heidevlinder).await?.into_values().flatten().next();
    let scopes = [
        (AccessRole::Admin, Some(AccessScope::All)),
        (AccessRole::Bestuur, lucas.map(|b| AccessScope::Bestuur(b.id))),
        (AccessRole::Directeur, kindcentrum("kc-balans").await?.map(AccessScope::Kindcentrum)),
        (AccessRole::Coach, locatie.map(|l| AccessScope::Locatie(l.id))),
        (AccessRole::TeamMember, team.map(|t| AccessScope::Team(t.id))),
        (AccessRole::Reader, kindcentrum("de-klinkert").await?.map(AccessScope::Kindcentrum)),
    ];
    let mut tokens = Vec::new();
    for (role, scope) in scopes {
        let Some(scope) = scope else {
            tracing::info!(%role, "no demo data for this role's scope; no demo token");
            continue;
        };
        let new = engine.create_token(&format!("{DEMO} {role}"), role, scope, None).await?;
        tokens.push((role, scope, new));
    }
    Ok(tokens)
}

/// The name every demo token starts with.
const DEMO: &str = "demo";
