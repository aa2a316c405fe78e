//! A throwaway PostgreSQL server, started once per test process from the installed server
//! binaries when no server URL is given, and shared by all tests of that process.

use std::fs::{self, File};
use std::io::Write;
use std::net::{Ipv4Addr, TcpListener};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::OnceLock;
use std::thread;
use std::time::{Duration, Instant};

use diesel::{Connection, PgConnection};

use crate::POSTGRES_URL_VAR;

/// Maximum time for `initdb` to finish, and again for the server to accept connections.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(30);

/// Interval between checks while waiting for a process or a connection.
const POLL_INTERVAL: Duration = Duration::from_millis(50);

/// Connection limit of the server. `Tracker::postgres` builds an r2d2 0.8 pool with its
/// defaults, which opens ten connections at once, and libtest runs one test per CPU
/// thread. The default limit of 100 would be reached by about nine concurrent tests.
const MAX_CONNECTIONS: u32 = 300;

/// Superuser created by `initdb`, whatever the operating system user.
const SUPERUSER: &str = "postgres";

/// File in the temporary folder to which [`WATCHDOG_SCRIPT`] writes the exit status of
/// the server. The script spells out the same name.
const EXIT_STATUS_FILE: &str = "server.exit-status";

/// File in the temporary folder that receives the server's stdout and stderr, also
/// spelled out in [`WATCHDOG_SCRIPT`].
const SERVER_LOG_FILE: &str = "server.log";

/// Shell script that starts the server and stops it when the test process exits.
///
/// Rust runs no destructor for statics and has no safe `atexit`, so the test process
/// keeps the write end of this script's stdin in a static instead. The kernel closes that
/// pipe however the process ends (return, panic, signal or SIGKILL). `cat` then reaches
/// end of file, and the script sends the server SIGQUIT (immediate shutdown), or SIGKILL
/// if it is still running 10 s later. It then removes the temporary folder, so cleanup
/// finishes shortly after the test process has exited. The script ignores SIGHUP, SIGINT
/// and SIGTERM, so a Ctrl-C stops the server (which handles SIGINT as a fast shutdown)
/// but not the cleanup. The server keeps running only if the script itself gets SIGKILL.
///
/// Arguments: the temporary folder, then the server command line.
const WATCHDOG_SCRIPT: &str = r#"
trap '' HUP INT TERM
folder=$1
shift
exec 3<&0
"$@" 3<&- </dev/null >"$folder/server.log" 2>&1 &
server=$!
{
    cat <&3 >/dev/null
    if [ ! -e "$folder/server.exit-status" ]; then
        kill -QUIT "$server" 2>/dev/null
        tries=0
        while [ ! -e "$folder/server.exit-status" ] && [ "$tries" -lt 100 ]; do
            sleep 0.1
            tries=$((tries + 1))
        done
        [ -e "$folder/server.exit-status" ] || kill -KILL "$server" 2>/dev/null
    fi
} &
watcher=$!
wait "$server"
echo "$?" >"$folder/server.exit-status"
wait "$watcher"
rm -rf "$folder"
"#;

/// The running throwaway server.
#[derive(Debug)]
pub(crate) struct PgServer {
    /// URL of the `postgres` database as the superuser, such as
    /// `postgres://postgres@127.0.0.1:41234/postgres`.
    pub(crate) admin_url: String,
    /// Temporary folder with the data directory, the Unix socket and the logs.
    pub(crate) folder: PathBuf,
    /// Write end of the watchdog's stdin, closed by the kernel when the process exits.
    _watchdog_stdin: ChildStdin,
}

/// Outcome of the one startup attempt per process.
#[derive(Debug)]
enum SharedServer {
    Running(PgServer),
    /// The server binaries or a way to run them are missing, for this reason.
    Unavailable(String),
    /// The binaries were found but the server failed to start, with this message.
    Failed(String),
}

static SHARED_SERVER: OnceLock<SharedServer> = OnceLock::new();

/// Returns the throwaway server of this process, starting it on the first call, or the
/// reason why no server can be started here.
///
/// # Panics
///
/// When the server binaries are found but the server fails to start. Later calls panic
/// with the same message without another attempt.
pub(crate) fn shared_server() -> Result<&'static PgServer, &'static str> {
    match SHARED_SERVER.get_or_init(start_shared_server) {
        SharedServer::Running(server) => Ok(server),
        SharedServer::Unavailable(reason) => Err(reason),
        SharedServer::Failed(message) => panic!("{message}"),
    }
}

fn start_shared_server() -> SharedServer {
    let binaries = match ServerBinaries::find() {
        Ok(binaries) => binaries,
        Err(reason) => return SharedServer::Unavailable(reason),
    };
    let user = match ServerUser::resolve() {
        Ok(user) => user,
        Err(reason) => return SharedServer::Unavailable(reason),
    };
    match start_server(&binaries, &user) {
        Ok(server) => {
            let _ = writeln!(
                std::io::stderr(),
                "\nStarted a throwaway PostgreSQL server from {} at {} with data in {}. \
                 It stops when this test process exits.\n",
                binaries.postgres.display(),
                server.admin_url,
                server.folder.display(),
            );
            SharedServer::Running(server)
        }
        Err(message) => SharedServer::Failed(format!(
            "failed to start a throwaway PostgreSQL server: {message}\n\
             Set {POSTGRES_URL_VAR} to use a running server instead."
        )),
    }
}

/// Paths of the PostgreSQL server binaries.
#[derive(Debug, PartialEq)]
struct ServerBinaries {
    initdb: PathBuf,
    postgres: PathBuf,
}

impl ServerBinaries {
    /// Finds `initdb` and `postgres` in the first PATH folder that has both, or else in
    /// the highest version under `/usr/lib/postgresql/*/bin` (the Debian layout).
    fn find() -> Result<Self, String> {
        let path = std::env::var_os("PATH").unwrap_or_default();
        std::env::split_paths(&path)
            .find_map(|folder| Self::in_folder(&folder))
            .or_else(|| Self::in_highest_version(Path::new("/usr/lib/postgresql")))
            .ok_or_else(|| {
                "no PostgreSQL server binaries (`initdb` and `postgres`) were found on PATH \
                 or under /usr/lib/postgresql/*/bin"
                    .to_owned()
            })
    }

    fn in_folder(folder: &Path) -> Option<Self> {
        let initdb = folder.join("initdb");
        let postgres = folder.join("postgres");
        (is_executable(&initdb) && is_executable(&postgres)).then_some(Self { initdb, postgres })
    }

    /// Returns the binaries in `root/<version>/bin` with the highest version, such as
    /// `15` over `9.6`, skipping folders whose name is not a version.
    fn in_highest_version(root: &Path) -> Option<Self> {
        fs::read_dir(root)
            .ok()?
            .filter_map(Result::ok)
            .filter_map(|entry| {
                let version = parse_version(entry.file_name().to_str()?)?;
                let binaries = Self::in_folder(&entry.path().join("bin"))?;
                Some((version, binaries))
            })
            .max_by(|(left, _), (right, _)| left.cmp(right))
            .map(|(_, binaries)| binaries)
    }
}

/// Parses a dotted version such as `9.6` or `15` into its numbers.
fn parse_version(name: &str) -> Option<Vec<u32>> {
    name.split('.').map(|part| part.parse().ok()).collect()
}

fn is_executable(path: &Path) -> bool {
    fs::metadata(path)
        .is_ok_and(|metadata| metadata.is_file() && metadata.permissions().mode() & 0o111 != 0)
}

/// Operating system user that runs `initdb` and `postgres`, which both reject root.
#[derive(Debug)]
enum ServerUser {
    Current,
    /// The `postgres` system user, used through `setpriv` when the tests run as root.
    /// `setpriv` replaces itself with the program, so the server's process id is that of
    /// the spawned command.
    System {
        uid: u32,
        gid: u32,
    },
}

impl ServerUser {
    fn resolve() -> Result<Self, String> {
        let uid = run_id(&["-u"])
            .map_err(|error| format!("failed to check the user id of the tests: {error}"))?;
        if uid != 0 {
            return Ok(Self::Current);
        }
        let system_user = |error: String| {
            format!(
                "the tests run as root, which initdb and postgres reject, and the `{SUPERUSER}` \
                 system user to run them as was not found: {error}"
            )
        };
        let uid = run_id(&["-u", SUPERUSER]).map_err(system_user)?;
        let gid = run_id(&["-g", SUPERUSER]).map_err(system_user)?;
        if Command::new("setpriv").arg("--version").output().is_err() {
            return Err(format!(
                "the tests run as root, which initdb and postgres reject, and `setpriv` \
                 (util-linux) is not on PATH to run them as the `{SUPERUSER}` user"
            ));
        }
        Ok(Self::System { uid, gid })
    }

    /// Returns a command that runs `program` as this user.
    fn command(&self, program: &Path) -> Command {
        match self {
            Self::Current => Command::new(program),
            Self::System { uid, gid } => {
                let mut command = Command::new("setpriv");
                command
                    .arg(format!("--reuid={uid}"))
                    .arg(format!("--regid={gid}"))
                    .arg("--clear-groups")
                    .arg(program);
                command
            }
        }
    }

    /// Gives this user ownership of `path`, so it can create the data directory there.
    fn take_ownership(&self, path: &Path) -> std::io::Result<()> {
        match self {
            Self::Current => Ok(()),
            Self::System { uid, gid } => std::os::unix::fs::chown(path, Some(*uid), Some(*gid)),
        }
    }
}

/// Runs `id` with `arguments` and parses the number it prints.
fn run_id(arguments: &[&str]) -> Result<u32, String> {
    let output = Command::new("id")
        .args(arguments)
        .output()
        .map_err(|error| format!("failed to run `id`: {error}"))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        return Err(format!(
            "`id {}` failed: {}",
            arguments.join(" "),
            stderr.trim()
        ));
    }
    stdout
        .trim()
        .parse()
        .map_err(|error| format!("`id {}` printed {stdout:?}: {error}", arguments.join(" ")))
}

/// Creates a cluster in a new temporary folder and starts the server under a watchdog.
fn start_server(binaries: &ServerBinaries, user: &ServerUser) -> Result<PgServer, String> {
    let (folder, data) = init_cluster(binaries, user)?;

    // NOTE: another process could take this port before the server binds it. Startup then
    // fails with the bind error from the server log in the panic message.
    let port = pick_free_port()?;
    let server = server_command(binaries, user, &data, folder.path(), port);

    // From here on the watchdog removes the folder.
    let folder = folder.keep();
    let mut watchdog = spawn_script(WATCHDOG_SCRIPT, &folder, &server, binaries)?;

    let admin_url = format!("postgres://{SUPERUSER}@127.0.0.1:{port}/postgres");
    let watchdog_stdin = watchdog
        .stdin
        .take()
        .expect("stdin of the watchdog is piped");
    if let Err(message) =
        wait_until_accepting(&mut watchdog, &folder, &admin_url, &binaries.postgres)
    {
        // Closing stdin makes the watchdog stop the server and remove the folder.
        drop(watchdog_stdin);
        let _ = watchdog.wait();
        return Err(message);
    }
    Ok(PgServer {
        admin_url,
        folder,
        _watchdog_stdin: watchdog_stdin,
    })
}

/// Creates a temporary folder owned by `user` and a cluster in its `data` subfolder.
/// Runs `script` under `sh` in `folder`, with the folder and the server command line as
/// its arguments and a pipe as its stdin. Removes the folder when `sh` cannot start,
/// because no script is then left to remove it.
fn spawn_script(
    script: &str,
    folder: &Path,
    server: &Command,
    binaries: &ServerBinaries,
) -> Result<std::process::Child, String> {
    Command::new("sh")
        .arg("-c")
        .arg(script)
        .arg("sh")
        .arg(folder)
        .arg(server.get_program())
        .args(server.get_args())
        .current_dir(folder)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|error| {
            let _ = fs::remove_dir_all(folder);
            format!(
                "failed to run `sh` to start `{}`: {error}",
                binaries.postgres.display()
            )
        })
}

fn init_cluster(
    binaries: &ServerBinaries,
    user: &ServerUser,
) -> Result<(tempfile::TempDir, PathBuf), String> {
    let folder = tempfile::Builder::new()
        .prefix("auth-tracker-postgres-")
        .tempdir()
        .map_err(|error| format!("failed to create a temporary folder: {error}"))?;
    user.take_ownership(folder.path()).map_err(|error| {
        format!(
            "failed to give {} to the `{SUPERUSER}` user: {error}",
            folder.path().display()
        )
    })?;
    let data = folder.path().join("data");

    let mut initdb = user.command(&binaries.initdb);
    initdb
        .arg("--pgdata")
        .arg(&data)
        .arg(format!("--username={SUPERUSER}"))
        .args(["--auth=trust", "--encoding=UTF8", "--locale=C", "--no-sync"])
        .current_dir(folder.path());
    run_with_timeout(initdb, &binaries.initdb, &folder.path().join("initdb.log"))?;
    Ok((folder, data))
}

/// Returns the command that runs the server of `data` on 127.0.0.1:`port`, with its Unix
/// socket in `socket_folder`.
fn server_command(
    binaries: &ServerBinaries,
    user: &ServerUser,
    data: &Path,
    socket_folder: &Path,
    port: u16,
) -> Command {
    let mut server = user.command(&binaries.postgres);
    server
        .arg("-D")
        .arg(data)
        .args(["-h", "127.0.0.1", "-p", &port.to_string()])
        .arg("-k")
        .arg(socket_folder)
        .args([
            "-c",
            "fsync=off",
            "-c",
            "synchronous_commit=off",
            "-c",
            "full_page_writes=off",
        ])
        .arg("-c")
        .arg(format!("max_connections={MAX_CONNECTIONS}"));
    server
}

/// Runs `command` with its output in `log_path`, and fails with that output if
/// `program` exits unsuccessfully or runs longer than [`STARTUP_TIMEOUT`].
fn run_with_timeout(mut command: Command, program: &Path, log_path: &Path) -> Result<(), String> {
    let log = File::create(log_path)
        .map_err(|error| format!("failed to create {}: {error}", log_path.display()))?;
    let log_copy = log.try_clone().map_err(|error| {
        format!(
            "failed to duplicate the handle of {}: {error}",
            log_path.display()
        )
    })?;
    let mut child = command
        .stdin(Stdio::null())
        .stdout(log_copy)
        .stderr(log)
        .spawn()
        .map_err(|error| format!("failed to run `{}`: {error}", program.display()))?;
    let deadline = Instant::now() + STARTUP_TIMEOUT;
    loop {
        let status = child
            .try_wait()
            .map_err(|error| format!("failed to wait for `{}`: {error}", program.display()))?;
        match status {
            Some(status) if status.success() => return Ok(()),
            Some(status) => {
                return Err(format!(
                    "`{}` failed with {status}, output:\n{}",
                    program.display(),
                    read_log(log_path)
                ));
            }
            None if Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "`{}` timed out after {} s, output:\n{}",
                    program.display(),
                    STARTUP_TIMEOUT.as_secs(),
                    read_log(log_path)
                ));
            }
            None => thread::sleep(POLL_INTERVAL),
        }
    }
}

fn pick_free_port() -> Result<u16, String> {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .map_err(|error| format!("failed to find a free port on 127.0.0.1: {error}"))
}

/// Connects to `admin_url` until it succeeds, and fails with the server log if the server
/// or its watchdog exits first or [`STARTUP_TIMEOUT`] passes.
fn wait_until_accepting(
    watchdog: &mut Child,
    folder: &Path,
    admin_url: &str,
    postgres: &Path,
) -> Result<(), String> {
    let deadline = Instant::now() + STARTUP_TIMEOUT;
    loop {
        let connection_error = match PgConnection::establish(admin_url) {
            Ok(_) => return Ok(()),
            Err(error) => error,
        };
        if let Ok(status) = fs::read_to_string(folder.join(EXIT_STATUS_FILE)) {
            return Err(format!(
                "`{}` exited with status {} before accepting connections, output:\n{}",
                postgres.display(),
                status.trim(),
                read_log(&folder.join(SERVER_LOG_FILE))
            ));
        }
        if let Ok(Some(status)) = watchdog.try_wait() {
            return Err(format!(
                "the `sh` watchdog of `{}` exited with {status} before the server accepted connections",
                postgres.display()
            ));
        }
        if Instant::now() >= deadline {
            return Err(format!(
                "`{}` did not accept connections at {admin_url} within {} s (last error: {}), output:\n{}",
                postgres.display(),
                STARTUP_TIMEOUT.as_secs(),
                connection_error.to_string().trim(),
                read_log(&folder.join(SERVER_LOG_FILE))
            ));
        }
        thread::sleep(POLL_INTERVAL);
    }
}

fn read_log(path: &Path) -> String {
    match fs::read_to_string(path) {
        Ok(text) if text.trim().is_empty() => "(empty)".to_owned(),
        Ok(text) => text.trim_end().to_owned(),
        Err(error) => format!("(failed to read {}: {error})", path.display()),
    }
}

/// Shell script that starts the server of a [`RestartablePgServer`] on each request of
/// the test process, and stops it when the test process exits or drops the server.
///
/// It reads one command per line from its stdin. `start` starts the server, after
/// reaping the previous one, which the test process stops with `pg_ctl`. At the end of
/// the input, which the kernel causes when the test process dies, it sends a running
/// server SIGQUIT (immediate shutdown), or SIGKILL if the server still runs 10 s later,
/// and removes the temporary folder. Like [`WATCHDOG_SCRIPT`], it ignores SIGHUP, SIGINT
/// and SIGTERM.
///
/// Arguments: the temporary folder, then the server command line.
const SUPERVISOR_SCRIPT: &str = r#"
trap '' HUP INT TERM
folder=$1
shift
server=
while read -r command; do
    if [ "$command" = start ]; then
        if [ -n "$server" ]; then
            wait "$server"
        fi
        "$@" </dev/null >>"$folder/server.log" 2>&1 &
        server=$!
    fi
done
if [ -n "$server" ]; then
    kill -QUIT "$server" 2>/dev/null
    ( sleep 10; kill -KILL "$server" 2>/dev/null ) &
    killer=$!
    wait "$server"
    kill -KILL "$killer" 2>/dev/null
fi
rm -rf "$folder"
"#;

/// A PostgreSQL server of one test, started from the installed binaries like the shared
/// server, which the test may stop and start again on the same port and data directory.
///
/// It never touches the server named by [`POSTGRES_URL_VAR`], which other tests share.
#[derive(Debug)]
pub struct RestartablePgServer {
    /// URL of the `postgres` database as the superuser, such as
    /// `postgres://postgres@127.0.0.1:41234/postgres`.
    pub admin_url: String,
    folder: PathBuf,
    data: PathBuf,
    pg_ctl: PathBuf,
    postgres: PathBuf,
    user: ServerUser,
    supervisor: std::sync::Mutex<Supervisor>,
}

/// The shell running [`SUPERVISOR_SCRIPT`] and the write end of its stdin.
#[derive(Debug)]
struct Supervisor {
    process: Child,
    commands: Option<ChildStdin>,
}

impl RestartablePgServer {
    /// Creates a cluster in a new temporary folder and starts its server. Returns `None`
    /// after reporting the skip when the server binaries, `pg_ctl` or a way to run them
    /// as a user other than root are missing.
    ///
    /// # Panics
    ///
    /// When the binaries are found but the server fails to start.
    pub fn start() -> Option<Self> {
        let prepared = ServerBinaries::find().and_then(|binaries| {
            let pg_ctl = binaries.postgres.with_file_name("pg_ctl");
            if !is_executable(&pg_ctl) {
                return Err(format!("`pg_ctl` was not found at {}", pg_ctl.display()));
            }
            Ok((binaries, pg_ctl, ServerUser::resolve()?))
        });
        let (binaries, pg_ctl, user) = match prepared {
            Ok(prepared) => prepared,
            Err(reason) => {
                crate::skip_backend(
                    "postgres",
                    &format!("no PostgreSQL server can be started and restarted: {reason}"),
                );
                return None;
            }
        };
        match Self::start_supervised(binaries, pg_ctl, user) {
            Ok(server) => Some(server),
            Err(message) => panic!("failed to start a restartable PostgreSQL server: {message}"),
        }
    }

    fn start_supervised(
        binaries: ServerBinaries,
        pg_ctl: PathBuf,
        user: ServerUser,
    ) -> Result<Self, String> {
        let (folder, data) = init_cluster(&binaries, &user)?;
        // NOTE: another process could take this port before the server binds it, or
        // between a stop and the next start.
        let port = pick_free_port()?;
        let server = server_command(&binaries, &user, &data, folder.path(), port);

        // From here on the supervisor removes the folder.
        let folder = folder.keep();
        let mut process = spawn_script(SUPERVISOR_SCRIPT, &folder, &server, &binaries)?;
        let commands = process.stdin.take();
        let server = Self {
            admin_url: format!("postgres://{SUPERUSER}@127.0.0.1:{port}/postgres"),
            folder,
            data,
            pg_ctl,
            postgres: binaries.postgres,
            user,
            supervisor: std::sync::Mutex::new(Supervisor { process, commands }),
        };
        // On failure, dropping the server makes the supervisor remove the folder.
        server.try_start_again()?;
        Ok(server)
    }

    /// Creates an empty database on this server, dropped with the returned value.
    ///
    /// # Panics
    ///
    /// When the server is stopped or rejects creating the database.
    pub fn create_database(&self) -> crate::PgDatabase {
        crate::PgDatabase::create_on(self.admin_url.clone())
    }

    /// Stops the server with `pg_ctl stop --mode=fast`, which disconnects every client,
    /// and waits until the server has exited.
    ///
    /// # Panics
    ///
    /// When `pg_ctl` fails or times out, with its output.
    pub fn stop(&self) {
        let mut pg_ctl = self.user.command(&self.pg_ctl);
        pg_ctl
            .arg("stop")
            .arg("--pgdata")
            .arg(&self.data)
            .args(["--mode=fast", "--wait"])
            .arg(format!("--timeout={}", STARTUP_TIMEOUT.as_secs()))
            .current_dir(&self.folder);
        if let Err(message) =
            run_with_timeout(pg_ctl, &self.pg_ctl, &self.folder.join("pg_ctl.log"))
        {
            panic!(
                "failed to stop the PostgreSQL server at {}: {message}",
                self.admin_url
            );
        }
    }

    /// Starts the stopped server again on the same port and data directory, and waits
    /// until it accepts connections.
    ///
    /// # Panics
    ///
    /// When the server does not start, with its log.
    pub fn start_again(&self) {
        if let Err(message) = self.try_start_again() {
            panic!(
                "failed to start the PostgreSQL server at {} again: {message}",
                self.admin_url
            );
        }
    }

    fn try_start_again(&self) -> Result<(), String> {
        let mut supervisor = self
            .supervisor
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let Supervisor { process, commands } = &mut *supervisor;
        let commands = commands
            .as_mut()
            .ok_or_else(|| "the supervisor of the server is gone".to_owned())?;
        commands
            .write_all(b"start\n")
            .and_then(|()| commands.flush())
            .map_err(|error| {
                format!("failed to ask the supervisor to start the server: {error}")
            })?;
        wait_until_accepting(process, &self.folder, &self.admin_url, &self.postgres)
    }
}

impl Drop for RestartablePgServer {
    fn drop(&mut self) {
        let supervisor = self
            .supervisor
            .get_mut()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        // Closing stdin makes the supervisor stop the server and remove the folder.
        drop(supervisor.commands.take());
        let _ = supervisor.process.wait();
    }
}

#[cfg(test)]
mod tests {
    use std::net::TcpStream;
    use std::os::unix::fs::PermissionsExt;
    use std::path::{Path, PathBuf};
    use std::process::Command;
    use std::time::{Duration, Instant};

    use diesel::sql_types::{BigInt, Text};
    use diesel::{Connection, PgConnection, RunQueryDsl};

    use super::{ServerBinaries, parse_version, shared_server};
    use crate::{PgDatabase, skip_backend};

    /// Environment variable that makes [`start_server_and_print`] run, in the child process
    /// of [`server_stops_after_process_exit`].
    const CHILD_VAR: &str = "AUTH_TRACKER_PG_SERVER_CHILD";

    /// Start of the stdout line on which the child process prints its server.
    const CHILD_LINE_PREFIX: &str = "throwaway server:";

    fn shared_server_or_skip() -> Option<&'static super::PgServer> {
        match shared_server() {
            Ok(server) => Some(server),
            Err(reason) => {
                skip_backend("postgres", reason);
                None
            }
        }
    }

    fn port_of(admin_url: &str) -> u16 {
        let authority = admin_url
            .split('@')
            .nth(1)
            .and_then(|rest| rest.split('/').next());
        let port = authority.and_then(|authority| authority.rsplit(':').next());
        port.and_then(|port| port.parse().ok())
            .unwrap_or_else(|| panic!("no port in {admin_url}"))
    }

    fn create_executable(path: &Path) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, "#!/bin/sh\n").unwrap();
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }

    #[test]
    fn version_parsing() {
        assert_eq!(parse_version("15"), Some(vec![15]));
        assert_eq!(parse_version("9.6"), Some(vec![9, 6]));
        assert_eq!(parse_version("main"), None);
        assert_eq!(parse_version("15."), None);
    }

    #[test]
    fn highest_complete_version_wins() {
        let root = tempfile::tempdir().unwrap();
        for version in ["9.6", "15"] {
            create_executable(&root.path().join(version).join("bin/initdb"));
            create_executable(&root.path().join(version).join("bin/postgres"));
        }
        // Version 16 has no `postgres`, and `latest` is not a version.
        create_executable(&root.path().join("16/bin/initdb"));
        create_executable(&root.path().join("latest/bin/initdb"));
        create_executable(&root.path().join("latest/bin/postgres"));
        // A file without the executable bit is not a binary.
        std::fs::create_dir_all(root.path().join("17/bin")).unwrap();
        std::fs::write(root.path().join("17/bin/initdb"), "").unwrap();
        std::fs::write(root.path().join("17/bin/postgres"), "").unwrap();

        let found = ServerBinaries::in_highest_version(root.path()).expect("a complete version");

        let bin = root.path().join("15/bin");
        assert_eq!(found.initdb, bin.join("initdb"));
        assert_eq!(found.postgres, bin.join("postgres"));
    }

    #[test]
    fn missing_root_has_no_binaries() {
        let root = tempfile::tempdir().unwrap();
        assert_eq!(
            ServerBinaries::in_highest_version(&root.path().join("absent")),
            None
        );
    }

    #[test]
    fn shared_server_started_once() {
        let Some(first) = shared_server_or_skip() else {
            return;
        };
        let second = shared_server().unwrap();
        assert!(
            std::ptr::eq(first, second),
            "both calls return the same server"
        );
    }

    #[test]
    fn shared_server_listens_on_loopback_and_socket() {
        let Some(server) = shared_server_or_skip() else {
            return;
        };
        let port = port_of(&server.admin_url);
        assert!(
            server
                .admin_url
                .starts_with("postgres://postgres@127.0.0.1:"),
            "admin URL {}",
            server.admin_url
        );
        let socket = server.folder.join(format!(".s.PGSQL.{port}"));
        assert!(socket.exists(), "Unix socket {} exists", socket.display());

        let mut connection = PgConnection::establish(&server.admin_url).unwrap();
        let address: String = diesel::select(diesel::dsl::sql::<Text>("host(inet_server_addr())"))
            .get_result(&mut connection)
            .unwrap();
        assert_eq!(address, "127.0.0.1");
        let listen: String = diesel::select(diesel::dsl::sql::<Text>(
            "current_setting('listen_addresses')",
        ))
        .get_result(&mut connection)
        .unwrap();
        assert_eq!(listen, "127.0.0.1");
        let fsync: String = diesel::select(diesel::dsl::sql::<Text>("current_setting('fsync')"))
            .get_result(&mut connection)
            .unwrap();
        assert_eq!(fsync, "off");
    }

    #[test]
    fn database_on_shared_server_runs_queries() {
        let Some(server) = shared_server_or_skip() else {
            return;
        };
        let database = PgDatabase::create_on(server.admin_url.clone());
        let mut connection = PgConnection::establish(&database.url).unwrap();

        let name: String = diesel::select(diesel::dsl::sql::<Text>("current_database()"))
            .get_result(&mut connection)
            .unwrap();
        assert_eq!(name, database.name);
        diesel::sql_query("CREATE TABLE numbers (value bigint NOT NULL)")
            .execute(&mut connection)
            .unwrap();
        let inserted = diesel::sql_query("INSERT INTO numbers VALUES (1), (2), (39)")
            .execute(&mut connection)
            .unwrap();
        assert_eq!(inserted, 3);
        let total: i64 = diesel::select(diesel::dsl::sql::<BigInt>(
            "(SELECT sum(value) FROM numbers)::bigint",
        ))
        .get_result(&mut connection)
        .unwrap();
        assert_eq!(total, 42);
    }

    #[test]
    fn dropped_database_is_removed() {
        let Some(server) = shared_server_or_skip() else {
            return;
        };
        let database = PgDatabase::create_on(server.admin_url.clone());
        let name = database.name.clone();
        drop(database);

        let mut connection = PgConnection::establish(&server.admin_url).unwrap();
        let remaining: i64 = diesel::select(diesel::dsl::sql::<BigInt>(&format!(
            "(SELECT count(*) FROM pg_database WHERE datname = '{name}')"
        )))
        .get_result(&mut connection)
        .unwrap();
        assert_eq!(remaining, 0, "database {name} is dropped");
    }

    #[test]
    fn restartable_server_keeps_data_and_cleans_up() {
        let Some(server) = super::RestartablePgServer::start() else {
            return;
        };
        let port = port_of(&server.admin_url);
        let folder = server.folder.clone();
        let mut connection = PgConnection::establish(&server.admin_url).unwrap();
        diesel::sql_query("CREATE TABLE kept (value bigint NOT NULL)")
            .execute(&mut connection)
            .unwrap();
        diesel::sql_query("INSERT INTO kept VALUES (42)")
            .execute(&mut connection)
            .unwrap();
        drop(connection);

        server.stop();
        assert!(
            PgConnection::establish(&server.admin_url).is_err(),
            "a stopped server refuses connections"
        );

        server.start_again();
        let mut connection = PgConnection::establish(&server.admin_url).unwrap();
        let kept: i64 = diesel::select(diesel::dsl::sql::<BigInt>(
            "(SELECT sum(value) FROM kept)::bigint",
        ))
        .get_result(&mut connection)
        .unwrap();
        assert_eq!(kept, 42, "the data survives the restart");
        drop(connection);

        drop(server);
        assert!(!folder.exists(), "folder {} is removed", folder.display());
        assert!(
            TcpStream::connect(("127.0.0.1", port)).is_err(),
            "nothing listens on 127.0.0.1:{port} any more"
        );
    }

    /// Runs in the child process of [`server_stops_after_process_exit`]: starts the server,
    /// prints its URL and folder, and lets the process exit.
    #[test]
    #[ignore = "runs only in the child process of server_stops_after_process_exit"]
    fn start_server_and_print() {
        if std::env::var_os(CHILD_VAR).is_none() {
            return;
        }
        let server = shared_server().expect("server binaries are available");
        println!(
            "{CHILD_LINE_PREFIX} {} {}",
            server.admin_url,
            server.folder.display()
        );
    }

    #[test]
    fn server_stops_after_process_exit() {
        if shared_server_or_skip().is_none() {
            return;
        }
        let output = Command::new(std::env::current_exe().unwrap())
            .args([
                "pg_server::tests::start_server_and_print",
                "--exact",
                "--ignored",
                "--nocapture",
            ])
            .env(CHILD_VAR, "1")
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success(),
            "child test process failed with {}:\n{stdout}\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
        let line = stdout
            .lines()
            .find_map(|line| line.strip_prefix(CHILD_LINE_PREFIX))
            .unwrap_or_else(|| {
                panic!("no `{CHILD_LINE_PREFIX}` line in the child's stdout:\n{stdout}")
            });
        let (admin_url, folder) = line.trim().split_once(' ').unwrap();
        let port = port_of(admin_url);
        let folder = PathBuf::from(folder);

        // The watchdog removes the folder only after the server has exited.
        let deadline = Instant::now() + Duration::from_secs(15);
        while folder.exists() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
        assert!(!folder.exists(), "folder {} is removed", folder.display());
        assert!(
            TcpStream::connect(("127.0.0.1", port)).is_err(),
            "nothing listens on 127.0.0.1:{port} any more"
        );
    }
}
