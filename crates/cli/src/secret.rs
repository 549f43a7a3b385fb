//! Reading a password or passphrase: one line of standard input, never an argument. At a
//! terminal the prompt goes to stderr and the terminal's echo is off while it is typed.

use std::io::{BufRead, IsTerminal, Read};

use anyhow::Context;
use zeroize::Zeroizing;

/// The longest line read as a secret, in bytes (a 1024-character password in four-byte
/// characters, and its line ending).
const MAX_SECRET_BYTES: u64 = 1024 * 4 + 2;

/// Where the commands get secrets from.
pub trait Secrets {
    /// The next secret, without its line ending; `None` when the input has ended.
    fn read(&mut self, prompt: &str) -> anyhow::Result<Option<Zeroizing<String>>>;
}

/// Secrets from standard input, one a line, in the order the command asks for them.
pub struct StdinSecrets;

impl Secrets for StdinSecrets {
    fn read(&mut self, prompt: &str) -> anyhow::Result<Option<Zeroizing<String>>> {
        let stdin = std::io::stdin();
        let tty = stdin.is_terminal();
        if tty {
            eprint!("{prompt}");
        }
        let echo_off = if tty { EchoOff::new() } else { None };
        let mut line = Zeroizing::new(Vec::with_capacity(MAX_SECRET_BYTES as usize));
        let read = stdin
            .lock()
            .take(MAX_SECRET_BYTES)
            .read_until(b'\n', &mut line);
        // With echo off the terminal still shows the newline (ECHONL).
        drop(echo_off);
        if read.context("reading standard input")? == 0 {
            return Ok(None);
        }
        Ok(Some(line_to_secret(line)?))
    }
}

/// A line as read, its ending removed, as text.
pub fn line_to_secret(mut line: Zeroizing<Vec<u8>>) -> anyhow::Result<Zeroizing<String>> {
    if line.last() == Some(&b'\n') {
        line.pop();
        if line.last() == Some(&b'\r') {
            line.pop();
        }
    }
    match std::str::from_utf8(&line) {
        Ok(text) => Ok(Zeroizing::new(text.to_owned())),
        Err(_) => anyhow::bail!("the secret on standard input is not UTF-8"),
    }
}

/// The terminal's echo turned off until dropped.
struct EchoOff {
    saved: libc::termios,
}

impl EchoOff {
    fn new() -> Option<Self> {
        // SAFETY: tcgetattr fills a termios we own; tcsetattr reads one. Both act on fd 0,
        // which stays open for the life of the process.
        unsafe {
            let mut term: libc::termios = std::mem::zeroed();
            if libc::tcgetattr(libc::STDIN_FILENO, &mut term) != 0 {
                return None;
            }
            let saved = term;
            term.c_lflag &= !libc::ECHO;
            term.c_lflag |= libc::ECHONL;
            if libc::tcsetattr(libc::STDIN_FILENO, libc::TCSANOW, &term) != 0 {
                return None;
            }
            Some(Self { saved })
        }
    }
}

impl Drop for EchoOff {
    fn drop(&mut self) {
        // SAFETY: puts back the settings read in `new`, on the same descriptor.
        unsafe {
            libc::tcsetattr(libc::STDIN_FILENO, libc::TCSANOW, &self.saved);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_endings_are_removed_and_nothing_else() {
        let s = line_to_secret(Zeroizing::new(b" pass word \r\n".to_vec())).unwrap();
        assert_eq!(s.as_str(), " pass word ");
        let s = line_to_secret(Zeroizing::new(b"no-newline".to_vec())).unwrap();
        assert_eq!(s.as_str(), "no-newline");
        assert!(line_to_secret(Zeroizing::new(vec![0xff, b'\n'])).is_err());
    }
}
