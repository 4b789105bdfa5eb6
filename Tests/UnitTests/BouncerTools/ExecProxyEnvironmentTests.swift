import Testing
import BouncerBase
@testable import BouncerTools

/// What `bouncer exec` points at its proxy, and how a shim under it reads the user's own settings back.
@Suite struct ExecProxyEnvironmentTests {
    @Test func clientsArePointedAtTheProxyAndTheOldValuesComeBack() {
        let user = ["PATH": "/s:/usr/bin", "PIP_INDEX_URL": "https://idx/simple/", "PIP_EXTRA_INDEX_URL": "https://extra/simple/",
                    "NPM_CONFIG_REGISTRY": "https://reg/", "npm_config_@corp:registry": "https://corp/", "no_proxy": "internal",
                    "NPM_CONFIG_CACHE": "/home/u/.npm"]
        var pip = PipConfiguration()
        pip.otherSettings = ["timeout": "60", "proxy": "http://p:3128"]
        let pointed = ExecProxyEnvironment.pointing(at: "http://127.0.0.1:9000", over: user, pip: pip, npmScopes: ["@corp"], npmCache: "/tmp/exec-cache")
        #expect(pointed["PIP_INDEX_URL"] == "http://127.0.0.1:9000/pypi/simple/")
        // uv records its index in uv.lock: left alone.
        #expect(pointed["UV_DEFAULT_INDEX"] == nil && pointed["UV_INDEX_URL"] == nil)
        #expect(pointed["PIP_EXTRA_INDEX_URL"] == nil)
        #expect(pointed["PIP_CONFIG_FILE"] == "/dev/null")
        // pip's other settings survive as variables; its HTTP proxy is the verifying proxy's, not pip's.
        #expect(pointed["PIP_TIMEOUT"] == "60")
        #expect(pointed["PIP_PROXY"] == nil)
        #expect(pointed["NPM_CONFIG_REGISTRY"] == nil)
        #expect(pointed["npm_config_registry"] == "http://127.0.0.1:9000/npm/")
        #expect(pointed["npm_config_@corp:registry"] == "http://127.0.0.1:9000/npm/")
        #expect(pointed["npm_config_replace_registry_host"] == "always")
        #expect(pointed["npm_config_cache"] == "/tmp/exec-cache" && pointed["NPM_CONFIG_CACHE"] == nil)
        #expect(pointed["no_proxy"] == "internal,127.0.0.1" && pointed["NO_PROXY"] == "internal,127.0.0.1")
        #expect(pointed["PATH"] == "/s:/usr/bin")

        #expect(ExecProxyEnvironment.restored(pointed) == user)
        // What the command itself set since is its own.
        var changed = pointed
        changed["PIP_INDEX_URL"] = "https://mine/simple/"
        var expected = user
        expected["PIP_INDEX_URL"] = "https://mine/simple/"
        #expect(ExecProxyEnvironment.restored(changed) == expected)
        // No exec above: unchanged; a record that is not JSON is ignored.
        #expect(ExecProxyEnvironment.restored(user) == user)
        #expect(ExecProxyEnvironment.restored(["BOUNCER_EXEC_CHANGED": "{", "A": "1"]) == ["BOUNCER_EXEC_CHANGED": "{", "A": "1"])
    }

    /// A client whose configuration names the user's own running `bouncer
    /// serve` (under the same policy) stays pointed there: no proxy of
    /// exec's in between. npm gets the command's own cache all the same.
    @Test func aClientServedByTheUsersOwnServeIsLeftPointedThere() {
        let user = ["PIP_INDEX_URL": "http://127.0.0.1:8000/pypi/simple/", "PIP_TIMEOUT": "5",
                    "npm_config_registry": "http://127.0.0.1:8000/npm/", "NPM_CONFIG_CACHE": "/home/u/.npm"]
        let pip = PipConfiguration.read(environment: user, realTool: "", isolated: false)
        let pipServed = ExecProxyEnvironment.pointing(at: "http://127.0.0.1:9000", over: user, pip: pip, npmScopes: [], npmCache: "/tmp/c",
                                                      pipServed: true)
        #expect(pipServed["PIP_INDEX_URL"] == "http://127.0.0.1:8000/pypi/simple/")
        #expect(pipServed["PIP_CONFIG_FILE"] == nil)
        #expect(pipServed["npm_config_registry"] == "http://127.0.0.1:9000/npm/")
        #expect(pipServed["BOUNCER_EXEC_PROXY"] == "http://127.0.0.1:9000")
        #expect(ExecProxyEnvironment.restored(pipServed) == user)

        let bothServed = ExecProxyEnvironment.pointing(at: "", over: user, pip: pip, npmScopes: [], npmCache: "/tmp/c",
                                                       pipServed: true, npmServed: true)
        #expect(bothServed["PIP_INDEX_URL"] == user["PIP_INDEX_URL"] && bothServed["npm_config_registry"] == user["npm_config_registry"])
        #expect(bothServed["npm_config_replace_registry_host"] == nil)
        #expect(bothServed["npm_config_cache"] == "/tmp/c" && bothServed["NPM_CONFIG_CACHE"] == nil)
        #expect(bothServed["BOUNCER_EXEC_PROXY"] == nil, "no proxy of exec's runs")
        #expect(ExecProxyEnvironment.restored(bothServed) == user)
    }
}
