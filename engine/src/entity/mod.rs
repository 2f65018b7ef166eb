//! sea-orm entities, one per table. Business rules live in the services, not here.

pub mod ambitie;
pub mod bestuur;
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
pub mod onderdeel;
pub mod pitch;
pub mod planning_item;
pub mod professional;
pub mod professional_fte;
pub mod professional_kindcentrum;
pub mod professional_role;
pub mod succescriterium;
pub mod team;
pub mod team_member;
pub mod workflow_version;
