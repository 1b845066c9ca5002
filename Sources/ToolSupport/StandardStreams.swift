import Foundation

/// Writes `text` to stderr, giving up silently when stderr is closed, full or a pipe nobody reads:
/// a message that cannot be shown must never stop the work it is about.
func writeToStandardError(_ text: String) {
    var bytes = Array(text.utf8)[...]
    while !bytes.isEmpty {
        let written = bytes.withUnsafeBytes { write(STDERR_FILENO, $0.baseAddress, $0.count) }
        if written < 0 && errno == EINTR { continue }
        guard written > 0 else { return }
        bytes = bytes.dropFirst(written)
    }
}

/// Makes descriptors 0, 1 and 2 name something before the tool opens anything else. A tool started
/// with one closed (`<&-`, `>&-`) would otherwise hand that number to its first `open` or `pipe`,
/// then read its own signal pipe as input or write its output into a file it opened to read.
/// A closed stdin reads as empty, a closed stdout refuses writes (the tool reports it and exits 1),
/// and a closed stderr swallows messages.
func reserveStandardDescriptors() {
    for (fd, flags) in [(STDIN_FILENO, O_RDONLY), (STDOUT_FILENO, O_RDONLY), (STDERR_FILENO, O_WRONLY)] {
        guard fcntl(fd, F_GETFD) == -1 && errno == EBADF else { continue }
        // open returns the lowest free descriptor: the closed one, as the lower ones are already open.
        let opened = open("/dev/null", flags)
        if opened >= 0 && opened != fd { _ = dup2(opened, fd); close(opened) }
    }
}

/// Whether stdout is a pipe whose reader has gone (`tool | head -c 100` after head exits): the kernel
/// flags the write end with POLLERR then.
func standardOutputReaderIsGone() -> Bool {
    var info = stat()
    guard fstat(STDOUT_FILENO, &info) == 0, info.st_mode & S_IFMT == S_IFIFO else { return false }
    var entry = pollfd(fd: STDOUT_FILENO, events: 0, revents: 0)
    return poll(&entry, 1, 0) == 1 && entry.revents & Int16(POLLERR) != 0
}

/// Ends the process as a Unix filter whose reader went away ends: killed by SIGPIPE (status 141 in
/// a shell), which `a | head` expects and does not report.
func exitAsBrokenPipe() -> Never {
    signal(SIGPIPE, SIG_DFL)
    raise(SIGPIPE)
    _exit(128 + SIGPIPE)  // not reached: SIGPIPE's default action ends the process
}
