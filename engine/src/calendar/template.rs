//! Schedule templates: the rhythms of the seeds, in `workflows/templates.toml`, applied to
//! a scope to give it its calendar.

use chrono::{NaiveDate, NaiveDateTime};
use serde::Deserialize;

use super::{Action, Policy, Schedule, ScheduleScope, ScheduleSpec};
use crate::Engine;
use crate::calendar::rule::Rule;
use crate::error::{Error, Result};

const TEMPLATES: &str = include_str!("../../../workflows/templates.toml");

/// A named rhythm.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Template {
    pub key: String,
    pub name: String,
    pub description: String,
    pub rule: Rule,
    pub action: Action,
    #[serde(default)]
    pub policy: Policy,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    template: Vec<Template>,
}

/// The shipped templates, checked.
pub fn templates() -> Result<Vec<Template>> {
    let file: File = toml::from_str(TEMPLATES).map_err(|e| Error::Validation(format!("templates.toml: {e}")))?;
    Ok(file.template)
}

/// What applying a template may set for the scope at hand.
#[derive(Clone, Debug, Default)]
pub struct TemplateOptions {
    /// The dates of a template whose dates the team chooses (ep-dag).
    pub dates: Vec<NaiveDateTime>,
    pub active_from: Option<NaiveDate>,
    pub active_until: Option<NaiveDate>,
}

impl Template {
    /// The schedule this template gives a scope.
    pub fn spec(self, scope: ScheduleScope, options: TemplateOptions) -> Result<ScheduleSpec> {
        let key = &self.key;
        let mut rule = self.rule;
        if let Rule::Dates { at } = &mut rule {
            if options.dates.is_empty() && at.is_empty() {
                return Err(Error::Validation(format!("template `{key}` needs the dates the team chose")));
            }
            if !options.dates.is_empty() {
                at.clone_from(&options.dates);
            }
        }
        let mut policy = self.policy;
        policy.active_from = options.active_from.or(policy.active_from);
        policy.active_until = options.active_until.or(policy.active_until);
        Ok(ScheduleSpec {
            key: self.key.clone(),
            name: self.name,
            template: Some(self.key),
            scope,
            rule,
            action: self.action,
            policy,
        })
    }
}

impl Engine {
    /// Gives a scope the schedule of a template; applying it again updates that schedule.
    pub async fn apply_template(&self, key: &str, scope: ScheduleScope, options: TemplateOptions) -> Result<Schedule> {
        let mut templates = templates()?;
        let Some(at) = templates.iter().position(|t| t.key == key) else {
            let keys: Vec<&str> = templates.iter().map(|t| t.key.as_str()).collect();
            return Err(Error::Validation(format!("unknown template `{key}`: the templates are {}", keys.join(", "))));
        };
        let template = templates.swap_remove(at);
        let spec = template.spec(scope, options)?;
        match self.schedules(Some(scope)).await?.into_iter().find(|s| s.spec.key == spec.key) {
            // Unchanged, and so nothing to write: still only for a role that may write it.
            Some(existing) if existing.spec == spec => {
                self.access_of().may(crate::access::Change::Schedules)?;
                Ok(existing)
            }
            Some(existing) => self.update_schedule(existing.row.id, spec).await,
            None => self.create_schedule(spec).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rhythm_of_the_seeds_has_a_valid_template() {
        let templates = templates().expect("templates parse");
        let keys: Vec<&str> = templates.iter().map(|t| t.key.as_str()).collect();
        for key in [
            "ep-dag",
            "welbevinden-scan",
            "intervisie",
            "groepsbespreking",
            "sop-evaluatie",
            "oudertevredenheid",
            "ouderpopulatie",
            "tien-minutengesprek",
            "op-de-koffie",
            "kindvolggesprek",
            "bhv-ehbo",
            "trimesterrapportage",
        ] {
            assert!(keys.contains(&key), "missing template {key}");
        }
        for t in &templates {
            if !matches!(&t.rule, Rule::Dates { at } if at.is_empty()) {
                t.rule.validate().unwrap_or_else(|e| panic!("{}: {e}", t.key));
            }
        }
    }
}
