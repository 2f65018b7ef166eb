//! Changing the organisation: professionals hired, changed and ended.

use async_graphql::{Context, ID, InputObject, MaybeUndefined, Object, Result};
use koers_engine::org::edit::{NewProfessional, ProfessionalEdit};

use crate::error::IntoGraphql;
use crate::query::{engine, parse_id};
use crate::types::{Date, Professional, Role};

/// A professional to hire.
#[derive(InputObject, Debug)]
pub struct AddProfessionalInput {
    pub name: String,
    pub roles: Vec<Role>,
    /// The employer.
    pub bestuur_id: ID,
    /// The kindcentra they work at: at least one.
    pub kindcentrum_ids: Vec<ID>,
    /// Their FTE from `startsOn`: from 0 to 2.
    pub fte: f64,
    /// Their first day.
    pub starts_on: Date,
    /// Deployed flexibly (on call); coached every year all the same.
    #[graphql(default)]
    pub flexible: bool,
}

/// A change of a professional; what is left out stays.
#[derive(InputObject, Debug)]
pub struct UpdateProfessionalInput {
    pub professional_id: ID,
    /// The `version` of the professional as it was read.
    pub expected_version: i32,
    pub name: Option<String>,
    /// Replaces their roles.
    pub roles: Option<Vec<Role>>,
    pub flexible: Option<bool>,
    /// A new FTE, from `fteFrom` on.
    pub fte: Option<f64>,
    pub fte_from: Option<Date>,
    /// The last day they work for their employer; null when they came back. A professional
    /// who leaves is ended, not deleted: their past norms and histories stay.
    pub left_on: MaybeUndefined<Date>,
}

#[derive(Default, Debug)]
pub struct OrgMutation;

#[Object]
impl OrgMutation {
    /// Hires a professional at kindcentra within the token's reach.
    async fn add_professional(&self, ctx: &Context<'_>, input: AddProfessionalInput) -> Result<Professional> {
        let new = NewProfessional {
            name: input.name,
            roles: input.roles.into_iter().map(Into::into).collect(),
            employer_bestuur_id: parse_id(&input.bestuur_id, "bestuur")?,
            kindcentra: input.kindcentrum_ids.iter().map(|id| parse_id(id, "kindcentrum")).collect::<Result<_>>()?,
            fte: input.fte,
            starts_on: input.starts_on.0,
            flexible: input.flexible,
        };
        engine(ctx).add_professional(new).await.gql().map(Professional)
    }

    /// Changes a professional: name, roles, flexible, a new FTE, the day they leave.
    async fn update_professional(&self, ctx: &Context<'_>, input: UpdateProfessionalInput) -> Result<Professional> {
        let id = parse_id(&input.professional_id, "professional")?;
        let fte = match (input.fte, input.fte_from) {
            (Some(fte), Some(from)) => Some((from.0, fte)),
            (None, None) => None,
            _ => return Err(crate::error::validation("`fte` and `fteFrom` go together: give both, or neither")),
        };
        let edit = ProfessionalEdit {
            name: input.name,
            roles: input.roles.map(|roles| roles.into_iter().map(Into::into).collect()),
            flexible: input.flexible,
            fte,
            left_on: match input.left_on {
                MaybeUndefined::Undefined => None,
                MaybeUndefined::Null => Some(None),
                MaybeUndefined::Value(day) => Some(Some(day.0)),
            },
        };
        engine(ctx).update_professional(id, input.expected_version, edit).await.gql().map(Professional)
    }
}
