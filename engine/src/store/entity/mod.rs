//! sea-orm entities, one per table. Business rules live in the services, not here.
//!
//! The models derive serde so that the export (`io::export`) writes and restores them with their
//! types; `api_token` does not, because tokens are credentials and never leave the database.

pub mod ambitie;
pub mod api_token;
pub mod bestuur;
pub mod change;
pub mod coaching_coachee;
pub mod coaching_entry;
pub mod criterium_mark;
pub mod cycle;
pub mod cycle_doel;
pub mod cycle_event;
pub mod doel;
pub mod doel_indicator;
pub mod groep;
pub mod indicator;
pub mod kindcentrum;
pub mod kindcentrum_bestuur;
pub mod koersplan;
pub mod locatie;
pub mod lrk_registration;
pub mod measurement;
pub mod occurrence;
pub mod onderdeel;
pub mod pitch;
pub mod planning_item;
pub mod professional;
pub mod professional_fte;
pub mod professional_kindcentrum;
pub mod professional_role;
pub mod reminder;
pub mod scan;
pub mod scan_score;
pub mod schedule;
pub mod school_holiday;
pub mod signal_override;
pub mod succescriterium;
pub mod team;
pub mod team_member;
pub mod ve_indication;
pub mod workflow_version;
