import Foundation
import Testing
import BouncerIO
@testable import BouncerTools

/// Where the docker / podman shims find the image: past the global options
/// (each known as a flag or as taking the next word), the subcommand, and
/// its options.
@Suite struct ContainerArgumentsTests {
    @Test func theImageIsFoundPastGlobalOptionsWithValues() throws {
        for arguments in [["--tlscacert", "/ca.pem", "--tlsverify", "pull", "img"], ["--namespace", "ns", "pull", "img"],
                          ["-D", "--log-level", "debug", "--config=/c", "pull", "img"], ["--root", "/r", "image", "pull", "img"],
                          ["--remote", "--url", "unix:/s", "run", "--rm", "-e", "A=1", "img", "sh"]] {
            let call = try ContainerShim.locate(arguments)
            #expect(call.map { arguments[$0.imageIndex] } == "img", "\(arguments)")
        }
        #expect(try ContainerShim.locate(["--version"]) == nil)
        #expect(try ContainerShim.locate(["--host", "tcp://h:2375", "images"]) == nil)
    }

    /// `--tls-verify` read as pflag reads a bool: podman takes `=0` and `=f`
    /// for false too, and the last one given counts.
    @Test func plainHTTPFollowsEverySpellingOfFalse() throws {
        for value in ["false", "0", "f", "F", "False", "FALSE"] {
            #expect(try ContainerShim.locate(["pull", "--tls-verify=\(value)", "img"])?.plainHTTP == true, "\(value)")
            #expect(try ContainerBuild.parse(["build", "--tls-verify=\(value)", "ctx"], verbEnd: 1).plainHTTP, "\(value)")
        }
        for arguments in [["pull", "--tls-verify", "img"], ["pull", "--tls-verify=true", "img"], ["pull", "--tls-verify=0", "--tls-verify=1", "img"], ["pull", "img"]] {
            #expect(try ContainerShim.locate(arguments)?.plainHTTP == false, "\(arguments)")
        }
    }

    /// podman pulls every image one pull names; clone with an image, a
    /// manifest list of remote images and a pod's configured infra image pull
    /// what no image argument the shim verifies names.
    @Test func pullsOfImagesTheShimDoesNotVerifyAreNamed() throws {
        #expect(throws: (any Error).self) { try ContainerShim.locate(["pull", "a:1", "b:1"]) }
        #expect(throws: (any Error).self) { try ContainerShim.locate(["image", "pull", "a:1", "--tls-verify=false", "b:1"]) }
        #expect(try ContainerShim.locate(["pull", "a:1", "--tls-verify=false", "-q"])?.imageIndex == 1)
        #expect(try ContainerShim.locate(["run", "a:1", "b:1"])?.imageIndex == 1)
        let why = { (words: [String]) in ContainerShim.unreadPull(words, subcommand: 0) }
        #expect(why(["container", "clone", "c1", "c2", "evil:1"]) != nil)
        #expect(why(["container", "clone", "c1", "c2"]) == nil)
        #expect(why(["manifest", "create", "list", "evil:1"]) != nil)
        #expect(why(["manifest", "add", "list", "docker://evil:1"]) != nil)
        #expect(why(["manifest", "create", "list"]) == nil)
        #expect(why(["manifest", "add", "list", "containers-storage:local@sha256:00"]) == nil)
        #expect(why(["container", "restore", "--import", "ckpt.tar"]) != nil)
        #expect(why(["container", "restore", "-i", "ckpt.tar"]) != nil)
        #expect(why(["pod", "restore", "--import=pod.tar"]) != nil)
        #expect(why(["container", "restore", "mycontainer"]) == nil)

        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("containers-conf-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("containers.conf.d"), withIntermediateDirectories: true)
        let conf = folder.appendingPathComponent("containers.conf").path
        try "[engine]\n# infra_image = \"commented:1\"\ninfra_image=\"first:1\"\n".write(toFile: conf, atomically: true, encoding: .utf8)
        try "[engine]\n  infra_image = 'later:2'  \n".write(toFile: conf + ".d/50-mine.conf", atomically: true, encoding: .utf8)
        let environment = ["CONTAINERS_CONF": conf]
        #expect(try ContainersConf.infraImage(environment: environment)?.image == "later:2")
        for words in [["pod", "create", "p"], ["run", "--pod", "new:p", "img"], ["create", "--pod=new:p", "img"], ["container", "run", "--name", "x", "--pod", "new:p", "img"]] {
            #expect(ContainersConf.infraPull(words, subcommand: 0, environment: environment)?.contains("later:2") == true, "\(words)")
        }
        for words in [["pod", "create", "--infra=false", "p"], ["run", "--pod", "existing", "img"], ["pod", "ps"]] {
            #expect(ContainersConf.infraPull(words, subcommand: 0, environment: environment) == nil, "\(words)")
        }
        try "[engine]\n".write(toFile: conf + ".d/50-mine.conf", atomically: true, encoding: .utf8)
        try "[engine]\ninfra_image = \"\"\n".write(toFile: conf, atomically: true, encoding: .utf8)
        #expect(ContainersConf.infraPull(["pod", "create"], subcommand: 0, environment: environment) == nil)

        // Other TOML spellings of the key or the string: each had podman pull an image the shim did not see (red team K3).
        for (text, line) in [("engine.infra_image = \"r/evil:1\"\n", 1), ("[engine]\n\"infra_image\" = \"r/evil:1\"\n", 2),
                             ("[engine]\n\"infr\\u0061_image\" = \"r/evil:1\"\n", 2), ("[engine]\n'infra_image' = 'r/evil:1'\n", 2),
                             ("[engine]\ninfra_image = '''r/evil:1'''\n", 2), ("[engine]\ninfra_image = \"\"\"\nr/evil:1\"\"\"\n", 2),
                             ("engine = { infra_image = \"r/evil:1\" }\n", 1), ("[engine]\nengine . infra_image = \"r/evil:1\"\n", 2)] {
            try text.write(toFile: conf, atomically: true, encoding: .utf8)
            let why = ContainersConf.infraPull(["pod", "create"], subcommand: 0, environment: environment)
            #expect(why?.contains("\(conf):\(line): a setting Bouncer cannot read with certainty") == true, "\(text): \(why ?? "nil")")
            #expect(ContainersConf.infraPull(["pod", "ps"], subcommand: 0, environment: environment) == nil)
        }
        // Settings that cannot spell it are read past.
        try "[engine]\ninfra_command = \"/pause\"\nenv = [\"A=1\"]\ndefault_sysctls = [\n  \"net.ipv4.ping_group_range=0 0\",\n]\n[engine.runtimes]\ncrun = [\"/usr/bin/crun\"]\n"
            .write(toFile: conf, atomically: true, encoding: .utf8)
        #expect(ContainersConf.infraPull(["pod", "create"], subcommand: 0, environment: environment) == nil)
    }

    /// A global option the shim does not know: taken for a flag, its value
    /// would be taken for the subcommand (`--tlscacert FILE pull IMAGE` was
    /// no pull), and the pull passed through unverified. Refused instead.
    @Test func anUnknownGlobalOptionIsRefusedRatherThanGuessed() throws {
        #expect(throws: (any Error).self) { try ContainerShim.locate(["--frobnicate", "/x", "pull", "img"]) }
        #expect(throws: (any Error).self) { try ContainerShim.locate(["-Zmyctx", "pull", "img"]) }
        // A known one-letter option with its value in the same word, as pflag reads it (`-c myctx`).
        #expect(try ContainerShim.locate(["-cmyctx", "pull", "img"]).map(\.imageIndex) == 2)
        #expect(try ContainerShim.locate(["-Dl", "debug", "pull", "img"]).map(\.imageIndex) == 3)
    }

    /// Options of run / create / pull, each known to take a value or none:
    /// `--domainname NAME` was taken for a flag, so NAME was taken for the
    /// image and verified, while the real tool ran the image after it.
    @Test func eachOptionOfTheSubcommandIsKnownOrRefused() throws {
        for arguments in [["run", "--domainname", "signed/app:1", "img"], ["run", "-it", "--rm", "img", "sh"],
                          ["run", "-dit", "img"], ["run", "-itv", "/a:/b", "img"], ["create", "--unknown-option=x", "img"],
                          ["run", "--passwd", "--pull", "never", "img"], ["pull", "-q", "--tls-verify=false", "img"]] {
            let call = try ContainerShim.locate(arguments)
            #expect(call.map { arguments[$0.imageIndex] } == "img", "\(arguments)")
        }
        #expect(throws: (any Error).self) { try ContainerShim.locate(["run", "--unknown-option", "x", "img"]) }
        #expect(throws: (any Error).self) { try ContainerShim.locate(["run", "-ix", "img"]) }
        // Every tag of a repository is not one image Bouncer can verify.
        #expect(throws: (any Error).self) { try ContainerShim.locate(["pull", "-a", "img"]) }
        #expect(throws: (any Error).self) { try ContainerShim.locate(["pull", "--all-tags", "img"]) }
        // In a run of one-letter options too.
        #expect(throws: (any Error).self) { try ContainerShim.locate(["pull", "-qa", "img"]) }
        // An empty inline value is a value (it once trapped the shim: the split found no second part).
        #expect(try ContainerShim.locate(["run", "--platform=", "img"]).map(\.imageIndex) == 2)
        // ...and the platform, not an image reference, is what is named wrong.
        for bad in ["", "linux", "linux//amd64", "a/b/c/d"] {
            #expect(throws: OCIError.platform(bad)) { try OCIPlatform(parsing: bad) }
        }
        #expect(OCIError.platform("").description == "platform '': a platform is OS/ARCH[/VARIANT], e.g. linux/amd64")
        #expect(try ContainerShim.locate(["run", "--platform", "linux/arm64", "-itv", "/a:/b", "img"])?.platform == "linux/arm64")
    }

    /// A word of one-letter options is read as pflag reads it: flags, then
    /// the first letter that takes a value takes the rest of the word (after
    /// one `=`) or the next word. `-p8080:80` and `-eHOME` were refused, and
    /// `build -f=FILE` read the Dockerfile `=FILE` where the builder reads FILE.
    @Test func aWordOfOneLetterOptionsIsReadAsPflagReadsIt() throws {
        let flags: Set<String> = ["-i", "-t", "-q"]
        let valued: Set<String> = ["-e", "-p", "-f"]
        func read(_ word: String) -> ShortOptions.Reading? { ShortOptions.read(word, flags: flags, valued: valued) }
        typealias O = ShortOptions.Option
        #expect(read("-it") == .init(options: [O(name: "-i", value: nil), O(name: "-t", value: nil)], takesNextWord: false))
        #expect(read("-itp") == .init(options: [O(name: "-i", value: nil), O(name: "-t", value: nil), O(name: "-p", value: nil)], takesNextWord: true))
        #expect(read("-itp8080:80") == .init(options: [O(name: "-i", value: nil), O(name: "-t", value: nil), O(name: "-p", value: "8080:80")], takesNextWord: false))
        #expect(read("-eHOME")?.options == [O(name: "-e", value: "HOME")])
        #expect(read("-e=A=1")?.options == [O(name: "-e", value: "A=1")])
        #expect(read("-ie=")?.options.last == O(name: "-e", value: "="))  // pflag: the value is "="
        #expect(read("-pi")?.options == [O(name: "-p", value: "i")])      // a value, not a flag
        #expect(read("-q=false")?.options == [O(name: "-q", value: "false")])
        for unreadable in ["-q=", "-ix", "-x=1", "--it", "-", "--"] {
            #expect(read(unreadable) == nil, "\(unreadable)")
        }

        for arguments in [["run", "-p8080:80", "img"], ["run", "-eHOME", "--rm", "img"], ["run", "-itp8080:80", "img", "sh"],
                          ["run", "-e=A=1", "img"], ["run", "-uroot", "-w/app", "img"], ["create", "-dp", "80:80", "img"]] {
            let call = try ContainerShim.locate(arguments)
            #expect(call.map { arguments[$0.imageIndex] } == "img", "\(arguments)")
        }
        #expect(throws: (any Error).self) { try ContainerShim.locate(["pull", "-a=true", "img"]) }
        #expect(throws: (any Error).self) { try ContainerShim.locate(["run", "-i=", "img"]) }

        for (arguments, file) in [(["build", "-f=Custom", "ctx"], "Custom"), (["build", "-qf=Custom", "ctx"], "Custom"),
                                  (["build", "-qf=", "ctx"], "=")] {
            let call = try ContainerBuild.parse(arguments, verbEnd: 1)
            #expect(call.files.map(\.value) == [file], "\(arguments)")
            #expect(call.contextIndex == 2, "\(arguments)")
        }
    }

    /// Calls whose images the real tool pulls from files or settings Bouncer
    /// does not read (a Kubernetes YAML, containers' labels, a plugin, a pod's
    /// infra image, a virtual machine's image): named, so enforce mode refuses them. They passed through.
    @Test func callsThatPullImagesBouncerCannotSeeAreNamed() throws {
        func why(_ arguments: [String]) throws -> String? {
            guard let subcommand = try ContainerShim.subcommandIndex(arguments) else { return nil }
            return ContainerShim.unreadPull(arguments, subcommand: subcommand)
        }
        for arguments in [["kube", "play", "pod.yaml"], ["--root", "/r", "play", "kube", "--replace", "pod.yaml"], ["auto-update"],
                          ["auto-update", "--rollback"], ["plugin", "install", "vieux/sshfs"], ["plugin", "upgrade", "p", "r/p:2"],
                          ["pod", "create", "--infra-image", "r/pause:1"], ["pod", "create", "--name", "p", "--infra-image=r/pause:1"],
                          ["pod", "clone", "--infra-image", "x", "p"], ["container", "runlabel", "install", "r/app:1"],
                          ["machine", "init"], ["machine", "init", "--cpus", "2", "--image-path", "next"],
                          ["machine", "init", "--image-path=https://host/fcos.qcow2.xz"], ["machine", "os", "apply", "quay.io/x/os:1"],
                          // A swarm's nodes pull these themselves (red team: they passed through).
                          ["service", "create", "r/app:1"], ["service", "update", "--image", "r/app:2", "web"], ["stack", "deploy", "-c", "s.yml", "s"],
                          ["buildx", "create", "--driver-opt", "image=r/buildkit:1"],
                          // podman downloads an archive named by URL itself (red team K1: it passed through).
                          ["load", "-i", "http://127.0.0.1:1/evil.tar"], ["image", "load", "--input=https://h/evil.tar"], ["load", "-qihttp://h/e.tar"]] {
            #expect(try why(arguments) != nil, "\(arguments)")
        }
        #expect(try why(["auto-update", "--dry-run", "--dry-run=false"]) != nil)
        for arguments in [["kube", "down", "pod.yaml"], ["auto-update", "--dry-run"], ["auto-update", "--dry-run=false", "--dry-run"], ["pod", "create", "--name", "p"], ["plugin", "ls"], ["images"], ["pull", "img"],
                          ["machine", "init", "--image-path", "/var/lib/vm/fcos.qcow2"], ["machine", "init", "--image-path=fcos.qcow2"],
                          ["machine", "start"], ["machine", "os", "upgrade"], ["load", "-i", "evil.tar"], ["image", "load", "--input=/tmp/a.tar"]] {
            #expect(try why(arguments) == nil, "\(arguments)")
        }
        #expect(try why(["kube", "play", "pod.yaml"])?.hasPrefix("kube play pulls the images a Kubernetes YAML file names") == true)
    }

    /// `docker compose` has the daemon pull and build images itself: a command
    /// that may do so is named (enforce mode refuses it) unless told to use
    /// only images already present. It passed through untouched.
    @Test func dockerComposeMayOnlyUseImagesAlreadyPresent() throws {
        func why(_ arguments: [String]) throws -> String? {
            guard let subcommand = try ContainerShim.subcommandIndex(arguments) else { return nil }
            return try DockerCompose.unverifiedPull(arguments, compose: subcommand)
        }
        for arguments in [["compose", "up"], ["compose", "up", "-d", "--pull", "never"], ["compose", "-f", "c.yaml", "--profile", "x", "up", "--no-build"],
                          ["compose", "create", "--pull=always", "--no-build"], ["compose", "run", "--rm", "app"], ["compose", "pull"],
                          ["compose", "build", "--pull"], ["compose", "-p", "proj", "watch"], ["compose", "scale", "app=2"],
                          ["--context", "c", "compose", "--project-directory", "/p", "run", "--pull", "missing", "app"],
                          // The last one given counts, as pflag reads them.
                          ["compose", "up", "--pull", "never", "--no-build", "--pull", "always"], ["compose", "up", "--pull=never", "--no-build", "--no-build=false"]] {
            #expect(try why(arguments) != nil, "\(arguments)")
        }
        for arguments in [["compose", "up", "-d", "--pull", "never", "--no-build"], ["compose", "-f", "a.yaml", "-f", "b.yaml", "create", "--no-build", "--pull=never"],
                          ["compose", "run", "--pull", "never", "--rm", "app", "sh"], ["compose", "down"], ["compose", "ps"], ["compose", "logs", "-f"],
                          ["compose", "config"], ["compose", "--dry-run", "exec", "app", "sh"], ["compose"],
                          ["compose", "up", "--pull", "always", "--pull=never", "--no-build=true"]] {
            #expect(try why(arguments) == nil, "\(arguments)")
        }
        #expect(throws: (any Error).self) { try why(["compose", "--frobnicate", "x", "up"]) }
        #expect(try why(["compose", "up"])?.contains("then run compose up --pull never --no-build") == true)
    }

    /// `import URL` is a download (verified as curl's); a file or `-` is the user's own.
    @Test func anImportsURLIsFoundPastItsOptions() throws {
        func url(_ arguments: [String]) throws -> String? {
            guard let subcommand = try ContainerShim.subcommandIndex(arguments) else { return nil }
            return try ContainerImport.urlIndex(arguments, subcommand: subcommand).map { arguments[$0] }
        }
        #expect(try url(["import", "https://h/r.tar", "img:v1"]) == "https://h/r.tar")
        #expect(try url(["--root", "/r", "image", "import", "-c", "ENV A=1", "--message", "m", "-q", "HTTP://h/r.tgz"]) == "HTTP://h/r.tgz")
        #expect(try url(["import", "--platform=linux/amd64", "-qm", "msg", "--", "http://h/r.tar"]) == "http://h/r.tar")
        for arguments in [["import", "r.tar", "img"], ["import", "-", "img"], ["import"], ["pull", "http://h/r.tar"], ["images"]] {
            #expect(try url(arguments) == nil, "\(arguments)")
        }
        #expect(throws: (any Error).self) { try url(["import", "--frobnicate", "x", "http://h/r.tar"]) }
    }

    /// cobra takes the root's options after a command group too: read from
    /// the word after the group, the verb was that option, and each of these
    /// pulled unverified (red team K5). Refused; help and buildx's `--builder` are read.
    @Test func aRootOptionBetweenAGroupAndItsVerbIsRefused() throws {
        func read(_ arguments: [String]) throws {
            guard let subcommand = try ContainerShim.subcommandIndex(arguments) else { return }
            _ = try ContainerBuild.verbEnd(arguments, subcommand: subcommand)
        }
        for arguments in [["image", "--log-level=info", "pull", "r/evil"], ["container", "--log-level", "info", "create", "r/evil"],
                          ["image", "--log-level=info", "build", "."], ["buildx", "--log-level=info", "build", "."],
                          ["buildx", "--builder", "b", "--debug", "build", "."], ["manifest", "--log-level=info", "create", "l", "r/evil"],
                          ["--root", "/r", "image", "-D", "import", "http://h/r.tar"], ["kube", "--log-level=info", "play", "p.yaml"],
                          ["pod", "--log-level=info", "create", "--infra-image", "r/p"], ["container", "-D", "runlabel", "install", "r/evil"],
                          ["container", "--debug", "restore", "--import", "c.tar"], ["container", "--debug", "clone", "c", "n", "r/evil"]] {
            #expect(throws: (any Error).self, "\(arguments)") { try read(arguments) }
        }
        for arguments in [["image", "--help", "pull", "r/a"], ["buildx", "--builder", "b", "build", "."], ["image", "pull", "--quiet", "r/a"],
                          ["--log-level=info", "image", "pull", "r/a"], ["network", "--log-level=info", "ls"]] {
            #expect(throws: Never.self, "\(arguments)") { try read(arguments) }
        }
        #expect(throws: (any Error).self) {
            try ContainerShim.refuseOptionBeforeVerb(["manifest", "--debug", "add", "l", "docker://r/evil"], group: 0, groups: BuildahShim.commandGroups)
        }
        try ContainerShim.refuseOptionBeforeVerb(["manifest", "add", "--all", "l", "containers-storage:r/a"], group: 0, groups: BuildahShim.commandGroups)
    }
}
