import Foundation
import BouncerTestSupport

/// A scratch podman storage for one test, removed with podman's own reset
/// (vfs layers are owned by root and read-only in places). Pass `global`
/// before the subcommand.
final class PodmanStorage {
    static let podman = "/usr/bin/podman"
    let directory: URL
    let global: [String]

    init() throws {
        // podman refuses a runroot over 50 characters: a short scratch directory.
        directory = URL(fileURLWithPath: "/tmp/bpm-" + UUID().uuidString.prefix(8))
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        // Its own --tmpdir too: the default (/run/libpod) is shared, and another test's `system reset` removes it.
        global = ["--root", directory.appendingPathComponent("root").path, "--runroot", directory.appendingPathComponent("run").path,
                  "--tmpdir", directory.appendingPathComponent("tmp").path, "--storage-driver", "vfs"]
    }

    deinit {
        _ = try? BouncerProcess.runProgram(Self.podman, global + ["system", "reset", "--force"])
        try? FileManager.default.removeItem(at: directory)
    }

    /// The digests podman holds, asked of the real podman.
    func digests() throws -> Set<String> {
        let list = try ContainerShimPodmanTests.Fixture.run(Self.podman, global + ["images", "--digests", "--format", "{{.Digest}}"])
        return Set(list.out.split(whereSeparator: \.isNewline).map(String.init))
    }
}
