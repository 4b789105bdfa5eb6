import Testing
@testable import BouncerTools

/// What the pipx shim refuses before pipx starts: anything that would have
/// pip fetch past the proxy the shim gives it.
@Suite struct PipxShimTests {
    @Test func indexesAndURLsThatOutrankTheProxyAreFound() {
        func why(_ words: [String]) -> String? {
            PipxShim.pastTheProxy(words, command: words.first { !$0.hasPrefix("-") } ?? "")
        }
        #expect(why(["install", "cowsay"]) == nil)
        #expect(why(["install", "--python", "/usr/bin/python3.12", "--pip-args=--pre --no-deps", "cowsay"]) == nil)
        #expect(why(["install", "--index-url", "http://i/simple", "x"])?.hasPrefix("--index-url") == true)
        #expect(why(["install", "--index-url=http://i/simple", "x"]) != nil)
        #expect(why(["install", "-ihttp://i/simple", "x"]) != nil)
        #expect(why(["inject", "app", "--pip-args", "--extra-index-url http://i/ -U", "x"])?.contains("--extra-index-url") == true)
        #expect(why(["install", "--pip-args=-f /wheels", "x"]) != nil)
        #expect(why(["install", "--pip-args=-ihttp://i/simple", "x"]) != nil)
        #expect(why(["install", "--pip-args", "-r extra.txt", "x"]) != nil, "a requirement file may name an index")
        // pip takes any unambiguous prefix of a long option (red team, round 2).
        #expect(why(["install", "good", "--pip-args=--requirem r.txt"]) != nil)
        #expect(why(["install", "good", "--pip-args", "--ind http://i/simple"]) != nil)
        #expect(why(["install", "good", "--pip-args=--extra http://i/simple"]) != nil)
        #expect(why(["install", "git+https://host/x.git"]) != nil)
        #expect(why(["install", "--spec", "x @ https://host/x.whl", "x"]) != nil)
        // run: the app's own arguments are its own.
        #expect(why(["run", "--spec", "black", "black", "--index-url", "https://not-for-pip"]) == nil)
        #expect(why(["run", "-i", "http://i/simple", "black"]) != nil)
        // runpip: pip's own words, and a requirement file may name an index.
        #expect(why(["runpip", "app", "install", "-r", "req.txt"]) != nil)
        #expect(why(["runpip", "app", "install", "-Ur", "req.txt"]) != nil)
        #expect(why(["runpip", "app", "install", "--find-links=/w", "x"]) != nil)
        #expect(why(["runpip", "app", "list", "--outdated"]) == nil)
        // An install, download or wheel read as the pip shim reads pip's: where wheels go is no project.
        #expect(why(["runpip", "app", "wheel", "-w", "/tmp/wheels", "black"]) == nil)
        #expect(why(["runpip", "app", "download", "--dest=./d", "black"]) == nil)
        #expect(why(["runpip", "app", "wheel", "-w", "/tmp/wheels", "./proj"]) != nil)
        #expect(why(["runpip", "app", "install", "--index-ur", "http://i/simple", "x"]) != nil)
        #expect(why(["runpip", "app", "install", "--frobnicate", "/s", "x"]) != nil, "an option Bouncer does not know")
    }

    /// A local project pip would build (its code runs) or an archive it would
    /// install with no proxy in between: refused, in every place pipx takes one.
    @Test func localProjectsAndArchivesAreFound() {
        func why(_ words: [String]) -> String? {
            PipxShim.pastTheProxy(words, command: words.first { !$0.hasPrefix("-") } ?? "")
        }
        for words in [["install", "./evilproj"], ["install", "-e", "../proj"], ["install", "/abs/proj"], ["install", "evilsdist-1.0.tlz"],
                      ["install", "x-1.0-py3-none-any.whl"], ["install", "proj @ ./proj"], ["run", "--spec", "./evilproj", "foo"],
                      ["run", "--spec=./evilproj", "foo"], ["run", "./evilproj"], ["inject", "app", "./plugin"], ["runpip", "app", "install", "./x"],
                      ["install", "~/src/proj"],
                      // Red team: pip takes --pip-args words as its own requirements; --preinstall names one too.
                      ["install", "benign", "--pip-args", "./evilproj"], ["install", "benign", "--pip-args=-e ./evilproj"],
                      ["install", "benign", "--pip-args=-e./x"], ["install", "benign", "--pip-args", "x.tar.gz"],
                      ["install", "benign", "--preinstall", "./evilproj"], ["install", "benign", "--preinstall=../p"],
                      // Round 2: an editable of a bare name is a source tree too.
                      ["install", "good", "--pip-args=--edit=pwn"], ["install", "good", "--pip-args=-epwn"], ["install", "good", "--pip-args", "-e pwn"],
                      ["install", "good", "--pip-args", "'-e' pwn"], ["install", "good", "--pip-args", "x\n-e\npwn"]] {
            #expect(why(words)?.contains("local project or archive") == true, "\(words)")
        }
        // Red team, round 4: words after `--` are operands (pipx drops a leading one from run's app),
        // argparse takes any unambiguous prefix of an option, and one-letter flags together.
        for words in [["install", "--", "./evilproj"], ["inject", "app", "--", "./evilproj"], ["runpip", "app", "--", "install", "-e", "/p"],
                      ["install", "good", "--pip-a=-e ./evilproj"], ["install", "good", "--pip", "./evilproj"],
                      ["run", "--spe=./evilproj", "evilproj"], ["run", "--sp", "./evilproj", "evilproj"],
                      ["upgrade", "app", "--pip-ar=./x.whl"], ["run", "--", "./evilproj"]] {
            #expect(why(words)?.contains("local project or archive") == true, "\(words)")
        }
        #expect(why(["run", "--", "http://127.0.0.1:1/evil.py"])?.contains("run it") == true)
        #expect(why(["run", "http://127.0.0.1:1/evil.py"])?.contains("run it") == true)
        #expect(why(["install", "--index-u", "http://i/simple", "x"])?.hasPrefix("--index-url") == true)
        #expect(why(["install", "-fi", "http://i/simple", "x"])?.hasPrefix("-i") == true)
        #expect(why(["install", "-fihttp://i/simple", "x"])?.hasPrefix("-i") == true)
        #expect(why(["install", "x", "--pip-args", "--ind http://i/simple"])?.contains("outranks") == true)
        for words in [["run", "--", "black", "--check", "./src"], ["run", "--spec", "black", "--", "black", "./x"], ["install", "--suffix=_2", "black"],
                      ["install", "--python=/usr/bin/python3", "black"], ["run", "black", "--", "./not/pipx's"]] {
            #expect(why(words) == nil, "\(words)")
        }
        for words in [["run", "./script.py", "arg"], ["run", "black", "./file/to/format.py", "--check", "src/"], ["install", "--suffix", "_2", "black"],
                      ["install", "--python", "/usr/bin/python3", "black"], ["inject", "app", "plugin"],
                      ["install", "black", "--pip-args", "--no-cache-dir --pre"], ["install", "black", "--preinstall", "setuptools"]] {
            #expect(why(words) == nil, "\(words)")
        }
    }
}
