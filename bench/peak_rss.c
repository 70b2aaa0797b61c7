/*
 * Peak resident set size of a command, for bench/run.py:  peak_rss PROGRAM [ARGS...]
 *
 * Forks (this small process's pages are all the child has before its exec), execs PROGRAM with stdout
 * and stderr to /dev/null, waits for it, then prints getrusage(RUSAGE_CHILDREN).ru_maxrss (kB) on stdout.
 * Exit status: the command's. (Measured from Python, the child's high-water mark would start at the
 * interpreter's size: ru_maxrss counts the pages a child had before its exec.)
 */
#define _POSIX_C_SOURCE 200809L
#include <fcntl.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: peak_rss PROGRAM [ARGS...]\n");
    return 2;
  }
  pid_t pid = fork();
  if (pid < 0)
    return 1;
  if (pid == 0) {
    int null = open("/dev/null", O_RDWR);
    if (null < 0)
      _exit(127);
    dup2(null, 0);
    dup2(null, 1);
    dup2(null, 2);
    execv(argv[1], argv + 1);
    _exit(127);
  }
  int status;
  if (waitpid(pid, &status, 0) != pid)
    return 1;
  struct rusage ru;
  getrusage(RUSAGE_CHILDREN, &ru);
  printf("%ld\n", ru.ru_maxrss);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
