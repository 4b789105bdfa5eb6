import Foundation
import Testing
@testable import BouncerTools

/// Which images a Dockerfile makes its builder pull, and where each is
/// written: every one the build shim misses would be pulled unverified.
@Suite struct DockerfileImagesTests {
    func read(_ text: String, _ settings: DockerfileImages.Settings = .init()) throws(DockerfileImages.Problem) -> DockerfileImages {
        try DockerfileImages.read(Array(text.utf8), settings: settings)
    }

    func written(_ text: String, _ use: DockerfileImages.Use) -> String {
        String(decoding: Array(text.utf8)[use.range], as: UTF8.self)
    }

    /// Each text is refused on its line, with a message saying `message`.
    func expectRefused(_ cases: [(String, Int, String)]) {
        for (text, line, message) in cases {
            do {
                let images = try read(text)
                Issue.record("read \(text.debugDescription) as \(images.uses.map(\.reference))")
            } catch {
                #expect(error.line == line, "\(text.debugDescription): \(error)")
                #expect(error.message.contains(message), "\(text.debugDescription): \(error)")
            }
        }
    }

    @Test func fromCopyFromMountFromAndTheSyntaxFrontendAreFoundWithTheirLines() throws {
        let text = """
            # syntax=docker/dockerfile:1.7
            # escape=\\
            FROM golang:1.22 AS build
            RUN --mount=type=cache,target=/root/.cache --mount=type=bind,from=tools:3,source=/x,target=/y go build
            FROM --platform=linux/arm64 alpine:3.19
            COPY --from=build /out /bin/app
            COPY --chown=1 --from=ghcr.io/o/helper:2 /h /h
            FROM scratch
            COPY --from=0 /a /a
            COPY --from=1 /b /b

            """
        let images = try read(text)
        #expect(images.uses.map(\.place) == [.syntax, .from, .mountFrom, .from, .copyFrom])
        #expect(images.uses.map(\.reference) == ["docker/dockerfile:1.7", "golang:1.22", "tools:3", "alpine:3.19", "ghcr.io/o/helper:2"])
        #expect(images.uses.map(\.line) == [1, 3, 4, 5, 7])
        #expect(images.uses.map { written(text, $0) } == ["docker/dockerfile:1.7", "golang:1.22", "tools:3", "alpine:3.19", "ghcr.io/o/helper:2"])
        #expect(images.uses[3].platform == "linux/arm64")
        #expect(images.uses.map(\.stage) == [0, 0, 0, 1, 1])
    }

    @Test func theRewriteReplacesExactlyTheWrittenReferences() throws {
        let text = "FROM alpine:3.19 AS base\nCOPY --from=busybox:1 /bin/sh /sh\nRUN echo alpine:3.19\n"
        let images = try read(text)
        let rewritten = DockerfileImages.rewrite(Array(text.utf8), images.uses.map { ($0.range, "R@sha256:\($0.line)") })
        #expect(String(decoding: rewritten, as: UTF8.self) == "FROM R@sha256:1 AS base\nCOPY --from=R@sha256:2 /bin/sh /sh\nRUN echo alpine:3.19\n")
    }

    @Test func variablesInFromComeFromGlobalArgsAndBuildArguments() throws {
        let text = """
            ARG REGISTRY=example.test
            ARG TAG
            ARG IMAGE=${REGISTRY}/base
            FROM $IMAGE:${TAG:-1.0}
            ARG STAGE_ONLY=x
            FROM ${REGISTRY}/tool-${TARGETARCH}:${UNDECLARED}v2

            """
        let plain = try read(text)
        #expect(plain.uses.map(\.reference) == ["example.test/base:1.0", "example.test/tool-amd64:v2"])
        var settings = DockerfileImages.Settings()
        settings.buildArguments = ["TAG": "2.5", "REGISTRY": "other.test", "UNDECLARED": "no-"]
        settings.targetPlatform = "linux/arm64/v8"
        let given = try read(text, settings)
        #expect(given.uses.map(\.reference) == ["other.test/base:2.5", "other.test/tool-arm64:v2"])
        // The written text is what is replaced, variables and all.
        #expect(written(text, given.uses[0]) == "$IMAGE:${TAG:-1.0}")
    }

    /// BuildKit defines TARGETARCH and the other automatic platform arguments
    /// for FROM; buildah 1.28 does not unless the build names --platform (or a
    /// heading ARG gives one a value), so `FROM --platform=linux/${TARGETARCH:-arm64}`
    /// is linux/amd64 to docker and linux/arm64 to podman (red team round 9).
    @Test func fromSeesTheAutomaticPlatformArgumentsOnlyWhereTheBuilderDefinesThem() throws {
        let text = """
            FROM --platform=linux/${TARGETARCH:-arm64} r.test/multi:1
            FROM --platform=linux/arm64 r.test/plain:1
            FROM r.test/tool-${TARGETARCH}:1
            FROM --platform=${TARGETPLATFORM} r.test/any:1

            """
        let docker = try read(text)
        #expect(docker.uses.map(\.platform) == ["linux/amd64", "linux/arm64", nil, "linux/amd64"])
        #expect(docker.uses.map(\.reference) == ["r.test/multi:1", "r.test/plain:1", "r.test/tool-amd64:1", "r.test/any:1"])
        var podman = DockerfileImages.Settings()
        podman.platformArgumentsInFrom = false
        let buildah = try read(text, podman)
        // Empty: the builder's own platform, as if none were written.
        #expect(buildah.uses.map(\.platform) == ["linux/arm64", "linux/arm64", nil, nil])
        #expect(buildah.uses.map(\.reference) == ["r.test/multi:1", "r.test/plain:1", "r.test/tool-:1", "r.test/any:1"])
        // Either way the builder may read a variable's platform otherwise: marked, so every image's triggers are read.
        #expect(docker.uses.map(\.platformHasVariable) == [true, false, false, true])
        #expect(buildah.uses.map(\.platformHasVariable) == [true, false, false, true])
        // A heading ARG's value, or a build argument, is seen by both.
        podman.buildArguments = ["P": "linux/s390x"]
        let declared = try read("ARG P=linux/ppc64le\nFROM --platform=$P r.test/x:1\n", podman)
        #expect(declared.uses.first?.platform == "linux/s390x")
        #expect(declared.uses.first?.platformHasVariable == true)
    }

    @Test func stagesNamedContextsAndScratchAreNoImages() throws {
        let text = """
            FROM base:1 AS Builder
            FROM Builder
            COPY --from=Builder /a /a
            COPY --from=assets /x /x
            FROM assets
            FROM scratch
            COPY --from=later /y /y
            FROM later:1 AS later

            """
        var settings = DockerfileImages.Settings()
        settings.namedContexts = ["assets"]
        let images = try read(text, settings)
        // A stage named after the instruction is no stage yet: `later` is an image there.
        #expect(images.uses.map(\.reference) == ["base:1", "later", "later:1"])
    }

    /// buildah keeps an ONBUILD trigger and runs it in a later build FROM the
    /// image (this file's later stage too): triggers that pull or download
    /// went unread and ran unverified (red team K2). Refused, in a
    /// here-document's lines too; plain triggers are kept.
    @Test func onbuildTriggersThatFetchAreRefused() throws {
        expectRefused([
            ("FROM a:1\nONBUILD COPY --from=r/evil:1 / /\n", 2, "ONBUILD COPY --from=r/evil:1"),
            ("FROM a:1\nONBUILD ADD http://127.0.0.1:1/x /x\n", 2, "downloads it itself"),
            ("FROM a:1\nONBUILD ADD $U /x\n", 2, "downloads it itself"),
            ("FROM a:1\nONBUILD RUN --mount=type=bind,from=r/evil,target=/x true\n", 2, "a trigger with options"),
            ("FROM a:1\nonbuild copy \"--from=r/evil\" / /\n", 2, "a trigger with options"),
            ("FROM a:1\nONBUILD COPY \\--from=r/evil / /\n", 2, "a trigger with options"),
            ("FROM a:1\nONBUILD FROM r/evil\n", 2, "a trigger naming an image"),
            ("FROM a:1\nRUN <<EOF\nONBUILD COPY --from=r/evil / /\nEOF\n", 3, "here-document line (opened on line 2)"),
        ])
        let kept = try read("FROM a:1\nONBUILD COPY . /app\nONBUILD RUN make -j2 --quiet\nONBUILD ADD local.tar /x\n")
        #expect(kept.uses.map(\.reference) == ["a:1"])
    }

    /// A base image's own triggers are joined with line breaks and read by
    /// the builder as a Dockerfile of their own: one that continues into the
    /// next, spans lines, opens a here-document or is a directive could say
    /// what Bouncer does not read, so it is refused, as is each trigger the
    /// Dockerfile's own ONBUILD lines would refuse.
    @Test func aBaseImagesTriggersAreJudgedAsTheBuilderReadsThem() {
        let refused = [
            "COPY --from=r/evil / /", "copy \"--from=r/evil\" / /", "ADD http://127.0.0.1:1/x /x", "ADD $U /x",
            "RUN --mount=type=bind,from=r/evil,target=/x true", "FROM r/evil", "ONBUILD COPY . /",
            "COPY \\", "COPY `", "COPY . /x\nCOPY --from=r/evil / /", "COPY . /x\r\nFROM r/evil", "# escape=`",
            "RUN <<EOF", "COPY <<EOF /x",
            // Blanks the builder trims and splits at (Go's unicode.IsSpace) and Bouncer does not.
            "\u{A0}COPY --from=r/evil / /", "\u{85}COPY --from=r/evil / /", "\u{3000}COPY --from=r/evil / /", "COPY\u{2028}--from=r/evil / /",
        ]
        for trigger in refused {
            #expect(DockerfileImages.baseImageTriggerProblem(trigger) != nil, "\(trigger.debugDescription)")
        }
        for trigger in ["COPY . /app", "RUN make -j2 --quiet", "ADD local.tar /x", "  ENV A=1  ", "WORKDIR /app", ""] {
            #expect(DockerfileImages.baseImageTriggerProblem(trigger) == nil, "\(trigger.debugDescription)")
        }
    }

    /// buildah's flag reader takes each byte for a rune and skips the blanks
    /// among them before it looks for `--`: a raw 0xA0 or 0x85 byte before
    /// `--from` (no UTF-8 character) made it a flag, and the unsigned image was
    /// pulled (red team, round 7). Refused; the same flag after a real
    /// character (U+00A0 is C2 A0) is no flag to buildah either.
    @Test func aFlagAfterARawByteTheBuildersTakeForABlankIsRefused() throws {
        for blank: UInt8 in [0xA0, 0x85] {
            let text = Array("FROM a:1\nCOPY ".utf8) + [blank] + Array("--from=r/evil /h /d\n".utf8)
            do {
                let images = try DockerfileImages.read(text, settings: .init())
                Issue.record("0x\(String(blank, radix: 16)): read as \(images.uses.map(\.reference))")
            } catch {
                #expect(error.line == 2 && error.message.contains("read as a blank"), "\(error)")
            }
        }
        let character = try read("FROM a:1\nCOPY \u{A0}--from=r/evil /h /d\n")
        #expect(character.uses.map(\.reference) == ["a:1"])
    }

    /// buildah matches a `--build-context` name exactly: one matched only
    /// with case ignored (or only once expanded) is an image to it, which it
    /// pulled unverified while the shim skipped it (red team K4). Refused.
    @Test func aNamedContextMatchedOnlyLooselyIsRefused() throws {
        var settings = DockerfileImages.Settings()
        settings.namedContexts = ["127.0.0.1:18605/TEAM/EVIL:latest", "ctx"]
        for (text, line) in [("FROM 127.0.0.1:18605/team/evil:latest\n", 1), ("FROM a:1\nCOPY --from=CTX / /\n", 2),
                             ("FROM a:1\nARG C=ctx\nCOPY --from=$C / /\n", 3), ("ARG C=ctx\nFROM $C\n", 2)] {
            #expect(throws: DockerfileImages.Problem.self, "\(text)") { try read(text, settings) }
            do { _ = try read(text, settings) } catch { #expect(error.line == line, "\(text): \(error)") }
        }
        #expect(try read("FROM 127.0.0.1:18605/TEAM/EVIL:latest\nCOPY --from=ctx / /\n", settings).uses.isEmpty)
    }

    /// Where BuildKit and buildah read a Dockerfile apart, the image one of
    /// them pulls cannot be verified for both: refused, naming the line (red
    /// team: each of these had buildah pull an unsigned image).
    @Test func whatTheBuildersReadApartIsRefused() throws {
        let cases: [(String, Int, String)] = [
            // Stage names: BuildKit ignores case and expands variables, buildah compares the word as written.
            ("FROM base:1 AS r/EVIL\nFROM r/evil\n", 2, "a stage to BuildKit and an image to buildah"),
            ("FROM base:1 AS b\nFROM c:1\nCOPY --from=B / /\n", 3, "a stage to BuildKit and an image to buildah"),
            ("ARG S=r/evil\nFROM base:1 AS r/evil\nFROM $S\n", 3, "a stage to BuildKit and an image to buildah"),
            // A directive not every builder knows ends the directives for one and not the other.
            ("# hello=world\n# escape=`\nFROM a:1\nWORKDIR /x`\nFROM r/evil\n", 2, "follows 'hello' (line 1)"),
            ("# check=skip=all\n# syntax=front:1\nFROM a:1\n", 2, "follows 'check'"),
            // Here-document bodies read as instructions, continuation lines joined, downloads too; one never closed.
            ("FROM a:1\nCOPY <<EOF /d\nCOPY \\\n --from=r/evil:1 /h /h\nEOF\n", 3, "here-document line"),
            ("FROM a:1\nRUN <<EOF\nADD http://127.0.0.1:9/e.sh /e.sh\nEOF\n", 3, "here-document line"),
            ("FROM a:1\nRUN <<EOF\necho hi\n", 2, "no terminator line 'EOF'"),
            // Round 2: buildah takes `escape` on the first line only; quotes buildah removes from
            // flags and mount fields; an ADD through a variable in a here-document body.
            ("# syntax=front:1\n# escape=`\nFROM a:1\n", 2, "follows another directive"),
            ("FROM a:1\nCOPY --fr\"\"om=r/evil / /\n", 2, "a flag written with quotes"),
            ("FROM a:1\nCOPY --from=r/ev\"\"il / /\n", 2, "a flag written with quotes"),
            ("FROM a:1\nRUN --mount=type=bind,'from=r/evil',target=/x true\n", 2, "a quote inside a field"),
            ("FROM a:1\nRUN --mount=type=bind,fr\"\"om=r/evil,target=/x true\n", 2, "a quote inside a field"),
            ("FROM a:1\nENV U=http://h/e.sh\nCOPY <<CMD /d\nADD ${U} /e.sh\nCMD\n", 4, "here-document line"),
            ("FROM a:1\nADD [\"http:\\u002f\\u002fh/e.sh\", \"/e.sh\"]\n", 2, "downloads it itself"),
            // Round 3: an escaped quote hiding a flag; a URL spelled with the quotes and escapes
            // buildah removes; ADD through a variable (each builder works values out differently).
            ("FROM a:1\nCOPY --chown=\"'\"0'\\'' --from=r/evil /h /d\\'x\n", 2, "an escaped quote"),
            ("FROM a:1\nRUN --network=\\\"x --mount=type=bind,from=r/evil,target=/x\\\" true\n", 2, "an escaped quote"),
            ("FROM a:1\nADD http:/\"\"/h/e.sh /e.sh\n", 2, "downloads it itself"),
            ("FROM a:1\nADD http:\\/\\/h/e.sh /e.sh\n", 2, "downloads it itself"),
            ("FROM a:1\nARG U=/etc/hostname\nADD $U /e.sh\n", 3, "a source written with a variable"),
            // Round 4: bytes the builders' flag reader takes for blanks.
            ("FROM a:1\nCOPY --chown=0\u{A0}--from=r/evil /h /d\n", 2, "read as a blank"),
            ("FROM a:1\nRUN --mount=type=tmpfs,target=/t\u{85}--mount=from=r/evil,type=bind,target=/e true\n", 2, "read as a blank"),
            // Round 5: a flag name buildah unescapes (and any COPY flag holding `--from`, which buildah
            // pulls); stage names and references with escapes or quotes, which buildah removes before
            // comparing; a mount word with an escape or a variable, which buildah works out first.
            ("FROM scratch\nCOPY --from\\=r/evil:1 /m /m\n", 2, "a flag name written with an escape"),
            ("FROM a:1\nRUN --mou\\nt=type=bind,from=r/evil,target=/x true\n", 2, "a flag name written with an escape"),
            ("FROM a:1\nCOPY --$F=r/evil /m /m\n", 2, "a flag name written with an escape or a variable"),
            ("FROM a:1\nCOPY --chown--from=r/evil /m /m\n", 2, "a flag holding '--from'"),
            ("# escape=`\nFROM a:1\nCOPY --from`=r/evil /m /m\n", 3, "a flag name written with an escape"),
            ("FROM scratch AS r/ev\\il\nFROM r/ev\\il\n", 1, "stage name r/ev\\il"),
            ("FROM scratch AS r/\"evil\"\nFROM r/\"evil\"\n", 1, "stage name"),
            ("FROM scratch AS r/$X\nFROM r/$X\n", 1, "stage name"),
            ("FROM r/ev\\il\n", 1, "an escape or a quote in a stage or image name"),
            ("FROM a:1\nCOPY --from=r/ev\\il /m /m\n", 2, "an escape or a quote in a stage or image name"),
            ("FROM a:1\nRUN --mount=type=bind,fr\\om=r/evil,target=/x true\n", 2, "an escape or a variable in a mount"),
            ("FROM a:1\nENV M=from=r/evil\nRUN --mount=type=bind,${M},target=/x true\n", 3, "an escape or a variable in a mount"),
            ("FROM a:1\nRUN --mount=type=bind,from=r/evil$X,target=/x true\n", 2, "an escape or a variable in a mount"),
            // The same in a here-document body, which buildah 1.28 reads as instructions.
            ("FROM a:1\nRUN <<EOF\nCOPY --from\\=r/evil /m /m\nEOF\n", 3, "here-document line"),
            ("FROM a:1\nRUN <<EOF\nRUN --mount=type=bind,fr\\om=r/evil,target=/x true\nEOF\n", 3, "here-document line"),
        ]
        expectRefused(cases)
        // A RUN command's own escaped quotes are the shell's business.
        #expect(try read("FROM a:1\nRUN echo \\\"hi\\\" > /x\n").uses.count == 1)
        // Known directives in any order, and a stage named as written, still read.
        #expect(try read("# escape=`\n# syntax=front:1\nFROM a:1 AS Base\nFROM Base\n").uses.map(\.reference) == ["front:1", "a:1"])
        // Plain flags, stage names and mounts still read.
        #expect(try read("FROM a:1 AS b-1.x\nFROM scratch\nCOPY --chown=0:0 --from=r/x:1 /m /m\nRUN --mount=type=bind,from=b-1.x,target=/x true\n").uses.map(\.reference) == ["a:1", "r/x:1"])
    }

    /// A mount's value is CSV: a field quoted whole (`"from=IMAGE"`) is still
    /// the `from` field (it was read as a key `"from`, and the image went unverified).
    @Test func aQuotedMountFieldIsReadAsCSV() throws {
        let text = "FROM a:1\nRUN --mount=type=bind,\"from=r/evil:1\",target=/x cat /x/h\n"
        let images = try read(text)
        #expect(images.uses.map(\.reference) == ["a:1", "r/evil:1"])
        #expect(images.uses.last.map { written(text, $0) } == "r/evil:1")
        #expect(throws: DockerfileImages.Problem.self) { try read("FROM a:1\nRUN --mount=type=bind,\"from=r/x:1 cat\n") }
    }

    @Test func continuationsCommentsAndAnotherEscapeCharacter() throws {
        let text = """
            # escape=`
            FROM `
            # a comment inside
              alpine:3 `
              AS one
            FROM scratch
            COPY --from=one C:\\a C:\\b

            """
        let images = try read(text)
        #expect(images.uses.map(\.reference) == ["alpine:3"])
        #expect(images.uses.first?.line == 2)
        #expect(images.uses.first.map { written(text, $0) } == "alpine:3")
    }

    /// A continuation line keeps its leading white space (BuildKit and
    /// buildah join `FROM\` and ` IMAGE` as `FROM IMAGE`): read without it,
    /// the instruction was one unknown word and its image went unverified.
    @Test func aContinuationLineKeepsItsLeadingSpace() throws {
        let text = "FROM\\\n 127.0.0.1:5000/evil/app:1\nCOPY\\\n --from=other:2 /a /b\nFROM \\\n\tthird:3\n"
        let images = try read(text)
        #expect(images.uses.map(\.reference) == ["127.0.0.1:5000/evil/app:1", "other:2", "third:3"])
        #expect(images.uses.first?.line == 1)
        #expect(images.uses.first.map { written(text, $0) } == "127.0.0.1:5000/evil/app:1")
    }

    /// Lines of a here-document are no instructions to BuildKit; to a
    /// builder that does not read here-documents they are, so one that would
    /// pull an image is refused rather than guessed.
    @Test func hereDocumentBodiesAreSkippedAndAnImageLineInOneIsRefused() throws {
        let skipped = try read("FROM a:1\nRUN <<EOF\necho FROM-ish text\nCOPY x y\nEOF\nFROM b:2\n")
        #expect(skipped.uses.map(\.reference) == ["a:1", "b:2"])
        let tabbed = try read("FROM a:1\nCOPY <<-\"END\" /f\n\thello\n\tEND\nFROM c:3\n")
        #expect(tabbed.uses.map(\.reference) == ["a:1", "c:3"])
        #expect(throws: DockerfileImages.Problem.self) { try read("FROM a:1\nRUN <<EOF\nFROM evil:1\nEOF\n") }
        #expect(throws: DockerfileImages.Problem.self) { try read("FROM a:1\nRUN <<EOF cat\nCOPY --from=evil:1 / /\nEOF\n") }
        #expect(throws: DockerfileImages.Problem.self) { try read("FROM a:1\nRUN <<EOF\n\u{00A0}FROM evil:1\nEOF\n") }
    }

    @Test func whatBouncerCannotTellIsRefusedNamingTheLine() throws {
        let cases: [(String, Int, String)] = [
            ("FROM a:1\nADD https://example.test/x.tgz /x\n", 2, "downloads it itself"),
            ("FROM a:1\nADD [\"git@example.test:o/r.git\", \"/src\"]\n", 2, "downloads it itself"),
            ("FROM a:1\nARG U=https://example.test/f\nADD $U /f\n", 3, "a source written with a variable"),
            ("FROM a:1\nADD $FROM_BASE_IMAGE_ENV/f /f\n", 2, "a source written with a variable"),
            ("FROM ${IMAGE#x}\n", 1, "not one Bouncer implements"),
            ("FROM --frob=x a:1\n", 1, "FROM option --frob=x"),
            ("FROM a:1 AS\n", 1, "IMAGE [AS NAME]"),
            ("FROM\n", 1, "names no image"),
            ("ARG E\nFROM $E\n", 2, "expands to nothing"),
            ("FROM a:1\nCOPY --from= /a /a\n", 2, "names no stage and no image"),
            ("FROM \"exam\\\nple:1\"\n", 1, "split across lines"),
            ("# escape=x\nFROM a:1\n", 1, "escape directive"),
        ]
        expectRefused(cases)
        // ADD of a local file is fine, and COPY with a variable.
        #expect(try read("FROM a:1\nARG D=dir\nCOPY $D/f /f\nADD --chown=1 x.tgz /x\n").uses.count == 1)
    }

    /// What BuildKit drops or splits on must not hide an image from the shim:
    /// a byte order mark, \v and \f between words, Unicode white space
    /// before an instruction (Go's unicode.IsSpace), a CRLF file.
    @Test func whiteSpaceAsBuildKitReadsIt() throws {
        let text = "\u{FEFF}# syntax=front:1\nFROM\u{0B}a:1\n\u{00A0}FROM b:2\r\n\u{3000}\u{2003}COPY --from=c:3 / /\r\n\u{0C}FROM\td:4 AS x\n"
        let images = try read(text)
        #expect(images.uses.map(\.reference) == ["front:1", "a:1", "b:2", "c:3", "d:4"])
        #expect(images.uses.map { written(text, $0) } == ["front:1", "a:1", "b:2", "c:3", "d:4"])
        // A continuation is the escape with only spaces and tabs after it (BuildKit's rule).
        #expect(try read("FROM a:1 \\ \t\nAS x\nFROM x\n").uses.map(\.reference) == ["a:1"])
    }

    @Test func hostileBytesNeverTrap() throws {
        var generator = SystemRandomNumberGenerator()
        let alphabet = Array("FROM COPY RUN ADD ARG --from= --mount=from=, ${}:-+$\\`\"'<<EOF\n\r\t #syntax=escape=AS a/b:1".utf8) + [0xff, 0x00]
        for _ in 0..<3000 {
            let bytes = (0..<Int.random(in: 0...120, using: &generator)).map { _ in alphabet.randomElement(using: &generator) ?? 0 }
            if let images = try? DockerfileImages.read(bytes, settings: .init()) {
                for use in images.uses {
                    #expect(use.range.lowerBound >= 0 && use.range.upperBound <= bytes.count)
                }
                _ = DockerfileImages.rewrite(bytes, images.uses.map { ($0.range, "x") })
            }
        }
    }
}

/// The build command line: its options anywhere (pflag reads them after
/// the context too), the Dockerfile, build arguments and contexts.
@Suite struct ContainerBuildArgumentsTests {
    @Test func theBuildFormsAreRecognisedAndOthersAreNot() throws {
        #expect(try ContainerBuild.verbEnd(["build", "."], subcommand: 0) == 1)
        #expect(try ContainerBuild.verbEnd(["--root", "/r", "image", "build", "."], subcommand: 2) == 4)
        #expect(try ContainerBuild.verbEnd(["builder", "build", "."], subcommand: 0) == 2)
        #expect(try ContainerBuild.verbEnd(["buildx", "build", "."], subcommand: 0) == 2)
        #expect(try ContainerBuild.verbEnd(["buildx", "--builder", "b1", "b", "."], subcommand: 0) == 4)
        #expect(try ContainerBuild.verbEnd(["image", "ls"], subcommand: 0) == nil)
        #expect(try ContainerBuild.verbEnd(["run", "build"], subcommand: 0) == nil)
        #expect(throws: (any Error).self) { try ContainerBuild.verbEnd(["buildx", "bake"], subcommand: 0) }
    }

    @Test func optionsAreReadBeforeAndAfterTheContext() throws {
        let arguments = ["build", "-t", "app:1", ".", "-f", "docker/Dockerfile.dev", "--build-arg", "A=1", "--build-arg=B",
                         "--platform", "linux/arm64", "--pull", "-q", "--build-context", "assets=./assets", "--tls-verify=false"]
        let call = try ContainerBuild.parse(arguments, verbEnd: 1)
        #expect(call.contextIndex == 3)
        #expect(call.files.map(\.value) == ["docker/Dockerfile.dev"])
        #expect(call.files.first?.positions == [4, 5])
        #expect(call.buildArguments.map(\.name) == ["A", "B"])
        #expect(call.buildArguments.map(\.value) == ["1", nil])
        #expect(call.platforms == ["linux/arm64"])
        #expect(call.buildContexts.map(\.name) == ["assets"])
        #expect(call.plainHTTP)
        let short = try ContainerBuild.parse(["build", "-qfCustom", "ctx"], verbEnd: 1)
        #expect(short.files.map(\.value) == ["Custom"])
        let run = try ContainerBuild.parse(["build", "-qf", "F", "ctx"], verbEnd: 1)
        #expect(run.files.map(\.value) == ["F"])
        #expect(run.contextIndex == 3)
    }

    /// The builder gets `-f COPY` right after the build's words and none of
    /// the user's `-f`: with `-f` first after `build`, the copy's `-f` was
    /// dropped with it, and the builder read the user's own Dockerfile.
    @Test func theBuilderGetsTheRewrittenCopyAndNoOtherDockerfile() throws {
        func handed(_ arguments: [String], verbEnd: Int, empty: String? = nil) throws -> [String] {
            ContainerBuild.handedOver(arguments, call: try ContainerBuild.parse(arguments, verbEnd: verbEnd), dockerfile: "/w/Dockerfile", emptyContext: empty)
        }
        #expect(try handed(["build", "-f", "D", "ctx"], verbEnd: 1) == ["build", "-f", "/w/Dockerfile", "ctx"])
        #expect(try handed(["--root", "/r", "build", "--file=D", "-t", "x", "ctx"], verbEnd: 3) == ["--root", "/r", "build", "-f", "/w/Dockerfile", "-t", "x", "ctx"])
        #expect(try handed(["image", "build", "-qfD", "ctx"], verbEnd: 2) == ["image", "build", "-f", "/w/Dockerfile", "-q", "ctx"])
        #expect(try handed(["build", "ctx", "-f", "D"], verbEnd: 1) == ["build", "-f", "/w/Dockerfile", "ctx"])
        #expect(try handed(["build"], verbEnd: 1) == ["build", "-f", "/w/Dockerfile"])
        #expect(try handed(["build", "-t", "x", "-"], verbEnd: 1, empty: "/w/context") == ["build", "-f", "/w/Dockerfile", "-t", "x", "/w/context"])
    }

    /// An option Bouncer does not know could take the next word, which would
    /// then not be the context: refused, as for run and pull.
    @Test func unknownOptionsAndSecondContextsAreRefused() {
        #expect(throws: (any Error).self) { try ContainerBuild.parse(["build", "--frob", "x", "."], verbEnd: 1) }
        #expect(throws: (any Error).self) { try ContainerBuild.parse(["build", "--frob=x", "."], verbEnd: 1) }
        #expect(throws: (any Error).self) { try ContainerBuild.parse(["build", ".", "other"], verbEnd: 1) }
        #expect(throws: (any Error).self) { try ContainerBuild.parse(["build", ".", "-f"], verbEnd: 1) }
    }

    @Test func aBuildArgumentFileIsReadAsNameValueLines() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("build-args-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: file) }
        try "# comment\n\nBASE=example.test/base:1\n  TAG=a=b\n".write(to: file, atomically: true, encoding: .utf8)
        #expect(try ContainerBuild.buildArgumentFile(file.path) == ["BASE": "example.test/base:1", "TAG": "a=b"])
        try "BASE=x\nnot an assignment\n".write(to: file, atomically: true, encoding: .utf8)
        #expect(throws: (any Error).self) { try ContainerBuild.buildArgumentFile(file.path) }
        #expect(throws: (any Error).self) { try ContainerBuild.buildArgumentFile(file.path + ".missing") }
    }

    @Test func remoteLocationsAndArchivesAreTold() {
        for remote in ["https://example.test/ctx.tar.gz", "git@example.test:o/r.git", "github.com/o/r", "git://example.test/r"] {
            #expect(ContainerBuild.isRemote(remote), "\(remote)")
        }
        #expect(!ContainerBuild.isRemote("./ctx"))
        #expect(ContainerBuild.isArchive([0x1f, 0x8b, 8, 0]))
        #expect(!ContainerBuild.isArchive(Array("FROM a:1\n".utf8)))
        var tar = [UInt8](repeating: 0, count: 512)
        tar.replaceSubrange(257..<262, with: Array("ustar".utf8))
        #expect(ContainerBuild.isArchive(tar))
    }

    /// `--build-arg K=V --build-arg K` with K unset: the builder drops V (red team: Bouncer kept it and
    /// judged `ADD $K` by a value the build never used).
    @Test func aNameOnlyBuildArgumentWithoutAValueDropsTheEarlierOne() {
        let arguments: [(name: String, value: String?)] = [("U", "/etc/hostname"), ("U", nil), ("V", "1"), ("W", nil)]
        #expect(ContainerBuild.apply(arguments, to: ["F": "file"], environment: ["W": "from-env"]) == ["F": "file", "V": "1", "W": "from-env"])
    }
}
