#include "subprocess.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>

extern char** environ;

namespace vs::test {

ProcessResult run_process(const std::string& path, const std::vector<std::string>& args, const std::string& input,
                          const std::optional<std::vector<std::string>>& env, int timeout_seconds) {
  ProcessResult r;
  int in[2], out[2], err[2], exec_report[2];
  if (pipe(in) || pipe(out) || pipe(err) || pipe2(exec_report, O_CLOEXEC)) {
    r.exec_errno = errno;
    return r;
  }
  std::vector<char*> argv{const_cast<char*>(path.c_str())};
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  std::vector<char*> envp;
  if (env) {
    for (const std::string& e : *env) envp.push_back(const_cast<char*>(e.c_str()));
    envp.push_back(nullptr);
  }
  char** child_env = env ? envp.data() : environ;
  const pid_t pid = fork();
  if (pid == 0) {
    dup2(in[0], 0);
    dup2(out[1], 1);
    dup2(err[1], 2);
    for (int fd : {in[0], in[1], out[0], out[1], err[0], err[1], exec_report[0]}) close(fd);
    execvpe(path.c_str(), argv.data(), child_env);
    const int e = errno;  // tell the parent why, through the close-on-exec pipe
    (void)!write(exec_report[1], &e, sizeof e);
    _exit(127);
  }
  for (int fd : {in[0], out[1], err[1], exec_report[1]}) close(fd);
  signal(SIGPIPE, SIG_IGN);  // the program may exit without reading its input
  (void)!write(in[1], input.data(), input.size());
  close(in[1]);
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_seconds);
  pollfd fds[2] = {{out[0], POLLIN, 0}, {err[0], POLLIN, 0}};
  int open_fds = 2;
  while (open_fds > 0) {
    if (std::chrono::steady_clock::now() > give_up) {
      r.timed_out = true;
      break;
    }
    if (poll(fds, 2, 200) <= 0) continue;
    for (pollfd& p : fds) {
      if (p.fd < 0 || !(p.revents & (POLLIN | POLLHUP))) continue;
      char buf[4096];
      const ssize_t n = read(p.fd, buf, sizeof buf);
      if (n <= 0) {
        close(p.fd);
        p.fd = -1;
        --open_fds;
      } else {
        (p.fd == out[0] ? r.out : r.err).append(buf, size_t(n));
      }
    }
  }
  for (pollfd& p : fds)
    if (p.fd >= 0) close(p.fd);
  if (r.timed_out) kill(pid, SIGKILL);
  int ws = 0;
  waitpid(pid, &ws, 0);
  if (read(exec_report[0], &r.exec_errno, sizeof r.exec_errno) != sizeof r.exec_errno) r.exec_errno = 0;
  close(exec_report[0]);
  if (WIFEXITED(ws)) r.status = WEXITSTATUS(ws);
  if (WIFSIGNALED(ws)) r.signal = WTERMSIG(ws);
  return r;
}

}  // namespace vs::test
