//! The evidence gathered in the field: the welbevinden and betrokkenheid scans of groepen
//! (with the retention their child codes have), and the pedagogisch coach's hours with the
//! wet IKK norm they are held to.

pub mod coaching;
pub mod retention;
pub mod scan;
