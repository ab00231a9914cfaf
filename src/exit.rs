//! Process exit codes shared by every command.

use std::process::ExitCode;

/// The outcome of a command, mapped one-to-one onto the process exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The command did its job (exit 0).
    Success,
    /// The command ran, but found nothing where finding was the point, such as
    /// a timeline filter that matched no event (exit 1).
    NothingFound,
    /// The command failed, or some input objects failed (exit 2).
    Errors,
    /// The user interrupted the run (exit 130).
    Interrupted,
}

impl Outcome {
    /// Returns the numeric exit status.
    pub fn code(self) -> u8 {
        match self {
            Outcome::Success => 0,
            Outcome::NothingFound => 1,
            Outcome::Errors => 2,
            Outcome::Interrupted => 130,
        }
    }
}

impl From<Outcome> for ExitCode {
    fn from(outcome: Outcome) -> Self {
        ExitCode::from(outcome.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_match_documentation() {
        assert_eq!(Outcome::Success.code(), 0);
        assert_eq!(Outcome::NothingFound.code(), 1);
        assert_eq!(Outcome::Errors.code(), 2);
        assert_eq!(Outcome::Interrupted.code(), 130);
    }
}
