import Testing
@testable import BouncerPolicy

/// What a wheel installs that Python runs at every start, wherever in
/// site-packages it lands (a red-team pass installed each of the first four
/// past the old check: the data scheme's site-packages, `./`, sitecustomize).
@Suite struct StartupHookTests {
    @Test func hooksAnywhereInSitePackages() {
        for path in ["x.pth", "./dothook.pth", "a-1.0.data/data/lib/python3.11/site-packages/x.pth", "sitecustomize.py", "usercustomize.py",
                     "sitecustomize/__init__.py", "sitecustomize.cpython-311-x86_64-linux-gnu.so", "a-1.0.data/purelib/x.PTH",
                     "a-1.0.data/platlib/sitecustomize.py", "a-1.0.data/data/lib/python3/dist-packages/usercustomize.py", "./x/../y.pth",
                     "_distutils_hack/__init__.py", "_virtualenv.py", "__editable___evil_1_0_finder.py"] {
            #expect(ArtifactInspection.isStartupHook(path), "\(path)")
        }
        for path in ["pkg/x.pth", "pkg/sitecustomize.py", "a-1.0.data/scripts/x.pth", "a-1.0.data/data/share/x.pth",
                     "a-1.0.data/headers/sitecustomize.py", "a-1.0.dist-info/RECORD", "sitecustomize-1.0.dist-info/METADATA", "mod.py"] {
            #expect(!ArtifactInspection.isStartupHook(path), "\(path)")
        }
    }

    /// A wheel is a file whose name ends in `.whl` in lower case, as pip
    /// tells one; pip builds a `.WHL` as a source archive, running its
    /// setup.py (a red-team pass did), so the guard takes it for one too.
    @Test func onlyALowerCaseWhlIsAWheel() {
        let wheel = ArtifactRequest(url: "file:///v/evil-1.0-py3-none-any.whl", ecosystem: .pypi, package: "evil", version: "1.0")
        let upper = ArtifactRequest(url: "file:///v/evil-1.0-py3-none-any.WHL", ecosystem: .pypi, package: "evil", version: "1.0")
        #expect(ArtifactInspection.kind(of: wheel) == .wheel(name: "evil", version: "1.0"))
        #expect(ArtifactInspection.kind(of: upper) == nil)
        #expect(ArtifactInspection.sdistProblem(wheel, threats: ThreatPolicy()) == nil)
        #expect(ArtifactInspection.sdistProblem(upper, threats: ThreatPolicy()) != nil)
    }
}
