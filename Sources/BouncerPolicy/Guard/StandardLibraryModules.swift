import BouncerBase

extension ArtifactInspection {
    /// A file of a top-level module or package named like one of the standard
    /// library's (`standardModules`) or one it or pip imports when present
    /// (`optionalImports`), wherever in site-packages a wheel puts it. The
    /// standard library comes first on sys.path, so a module it has shadows the
    /// wheel's; one it lacks is imported from the wheel: `msvcrt.py` on Linux
    /// ran at every later pip (subprocess does `try: import msvcrt`), and
    /// `org/` at every copy or pickle import (a red-team pass). A file counts
    /// when Python can import it (`.py`, compiled, an extension); a
    /// backport's own distribution (`standardModuleOwners`) may ship its module.
    static func shadowsAStandardModule(_ path: String, package: String? = nil) -> Bool {
        inSitePackages(path).contains { site in
            importedModule(site).map { namesAStandardModule($0, package: package) } ?? false
        }
    }

    /// The top-level module a path below a folder on sys.path makes importable
    /// (lowercased, as given): a package is its folder's whole name (`org/`); a
    /// module, a file's name up to its first dot (`_dbm.cpython-311-….so`),
    /// when Python can import it (`.py`, compiled, an extension). Nil otherwise.
    static func importedModule(_ place: ArraySlice<String>) -> String? {
        guard let name = place.first else { return nil }
        if place.count > 1 { return name }
        let pieces = name.split(separator: ".", omittingEmptySubsequences: false)
        guard pieces.count >= 2, ["py", "pyc", "pyo", "pyw", "so", "pyd"].contains(pieces[pieces.count - 1]) else { return nil }
        return String(pieces[0])
    }

    /// A module of `standardModules` or `optionalImports`, from a distribution
    /// that is not its owner (`standardModuleOwners`, `optionalImports`), or
    /// any `_sysconfigdata*`: sysconfig imports `_sysconfigdata_{abi}_{platform}_{multiarch}`,
    /// a name `sys.stdlib_module_names` lacks, and pip calls sysconfig at every run
    /// (red team: `bin/_sysconfigdata__x86_64-linux-gnu.py` ran at every later pip).
    static func namesAStandardModule(_ module: String, package: String?) -> Bool {
        if module.hasPrefix("_sysconfigdata") { return true }
        guard standardModules.contains(module) || optionalImports[module] != nil else { return false }
        let owners = standardModuleOwners[module] ?? optionalImports[module] ?? []
        return !(package.map(PythonPackageName.normalised).map(owners.contains) ?? false)
    }

    /// The union of `sys.stdlib_module_names` of CPython 3.10, 3.11, 3.12 and
    /// 3.13 (printed by each), with the names 3.14 adds (annotationlib,
    /// compression, _zstd, _remote_debugging, _hmac, _types); lower case, as
    /// `inSitePackages` gives names (`cprofile`). It names modules of every
    /// platform: a Linux Python lacks msvcrt, winreg, _winapi, nt, _overlapped,
    /// _scproxy, and a build may lack _dbm, _gdbm, _tkinter.
    static let standardModules: Set<String> = [
        "_abc", "abc", "aifc", "_aix_support", "_android_support", "annotationlib", "antigravity", "argparse", "array", "_ast", "ast", "asynchat",
        "_asyncio", "asyncio", "asyncore", "atexit", "audioop", "base64", "bdb", "binascii", "binhex", "_bisect", "bisect", "_blake2",
        "_bootsubprocess", "builtins", "_bz2", "bz2", "calendar", "cgi", "cgitb", "chunk", "cmath", "cmd", "code", "_codecs", "codecs", "_codecs_cn",
        "_codecs_hk", "_codecs_iso2022", "_codecs_jp", "_codecs_kr", "_codecs_tw", "codeop", "_collections", "collections", "_collections_abc",
        "_colorize", "colorsys", "_compat_pickle", "compileall", "_compression", "compression", "concurrent", "configparser", "contextlib",
        "_contextvars", "contextvars", "copy", "copyreg", "cprofile", "_crypt", "crypt", "_csv", "csv", "_ctypes", "ctypes", "_curses", "curses",
        "_curses_panel", "dataclasses", "_datetime", "datetime", "_dbm", "dbm", "_decimal", "decimal", "difflib", "dis", "distutils", "doctest",
        "_elementtree", "email", "encodings", "ensurepip", "enum", "errno", "faulthandler", "fcntl", "filecmp", "fileinput", "fnmatch", "fractions",
        "_frozen_importlib", "_frozen_importlib_external", "ftplib", "_functools", "functools", "__future__", "gc", "_gdbm", "genericpath", "getopt",
        "getpass", "gettext", "glob", "graphlib", "grp", "gzip", "_hashlib", "hashlib", "_heapq", "heapq", "_hmac", "hmac", "html", "http",
        "idlelib", "imaplib", "imghdr", "_imp", "imp", "importlib", "inspect", "_interpchannels", "_interpqueues", "_interpreters", "_io", "io",
        "_ios_support", "ipaddress", "itertools", "_json", "json", "keyword", "lib2to3", "linecache", "_locale", "locale", "logging", "_lsprof",
        "_lzma", "lzma", "mailbox", "mailcap", "_markupbase", "marshal", "math", "_md5", "mimetypes", "mmap", "modulefinder", "_msi", "msilib",
        "msvcrt", "_multibytecodec", "_multiprocessing", "multiprocessing", "netrc", "nis", "nntplib", "nt", "ntpath", "nturl2path", "numbers",
        "_opcode", "opcode", "_opcode_metadata", "_operator", "operator", "optparse", "os", "ossaudiodev", "_osx_support", "_overlapped", "pathlib",
        "pdb", "_pickle", "pickle", "pickletools", "pipes", "pkgutil", "platform", "plistlib", "poplib", "posix", "posixpath", "_posixshmem",
        "_posixsubprocess", "pprint", "profile", "pstats", "pty", "pwd", "_py_abc", "py_compile", "pyclbr", "_pydatetime", "_pydecimal", "pydoc",
        "pydoc_data", "pyexpat", "_pyio", "_pylong", "_pyrepl", "_queue", "queue", "quopri", "_random", "random", "re", "readline",
        "_remote_debugging", "reprlib", "resource", "rlcompleter", "runpy", "sched", "_scproxy", "secrets", "select", "selectors", "_sha1", "_sha2",
        "_sha256", "_sha3", "_sha512", "shelve", "shlex", "shutil", "_signal", "signal", "site", "_sitebuiltins", "smtpd", "smtplib", "sndhdr",
        "_socket", "socket", "socketserver", "spwd", "_sqlite3", "sqlite3", "_sre", "sre_compile", "sre_constants", "sre_parse", "_ssl", "ssl",
        "_stat", "stat", "_statistics", "statistics", "_string", "string", "stringprep", "_strptime", "_struct", "struct", "subprocess",
        "_suggestions", "sunau", "_symtable", "symtable", "sys", "_sysconfig", "sysconfig", "syslog", "tabnanny", "tarfile", "telnetlib", "tempfile",
        "termios", "textwrap", "this", "_thread", "threading", "_threading_local", "time", "timeit", "_tkinter", "tkinter", "token", "_tokenize",
        "tokenize", "tomllib", "trace", "traceback", "_tracemalloc", "tracemalloc", "tty", "turtle", "turtledemo", "_types", "types", "_typing",
        "typing", "unicodedata", "unittest", "urllib", "uu", "_uuid", "uuid", "venv", "_warnings", "warnings", "wave", "_weakref", "weakref",
        "_weakrefset", "webbrowser", "_winapi", "winreg", "winsound", "_wmi", "wsgiref", "xdrlib", "xml", "xmlrpc", "zipapp", "zipfile", "zipimport",
        "zlib", "_zoneinfo", "zoneinfo", "_zstd",
    ]

    /// Top-level modules outside the standard library that it or pip's vendored
    /// code imports when present, with the distributions that genuinely ship
    /// them: `org` (copy, pickle: Jython's PyStringMap), `_distutils_system_mod`
    /// (setuptools' distutils), `attr` (rich.pretty), `socks` (requests),
    /// `cPickle` (cachecontrol). Each ran from a wheel that shipped it (red team).
    static let optionalImports: [String: Set<String>] = [
        "org": [], "_distutils_system_mod": [], "cpickle": [], "attr": ["attrs"], "socks": ["pysocks"],
    ]

    /// Backports and revivals of standard modules, by the distribution (as pip
    /// normalises its name) that ships each: harmless where the standard library
    /// has the module, the module itself where it was removed (3.12, 3.13).
    static let standardModuleOwners: [String: Set<String>] = {
        var owners: [String: Set<String>] = [:]
        for module in ["typing", "dataclasses", "contextvars", "asyncio", "argparse", "uuid", "importlib", "statistics", "pathlib",
                       "configparser", "ipaddress"] {
            owners[module, default: []].insert(module)
        }
        for module in ["aifc", "asynchat", "asyncore", "cgi", "cgitb", "chunk", "crypt", "distutils", "imghdr", "mailcap", "nntplib",
                       "pipes", "smtpd", "sndhdr", "sunau", "telnetlib", "uu", "xdrlib"] {
            owners[module, default: []].insert("standard-" + module)
        }
        let others: [(String, String)] = [
            ("enum", "enum34"), ("concurrent", "futures"), ("selectors", "selectors34"), ("graphlib", "graphlib-backport"),
            ("secrets", "python2-secrets"), ("readline", "pyreadline"), ("readline", "pyreadline3"), ("audioop", "audioop-lts"),
            ("cgi", "legacy-cgi"), ("cgitb", "legacy-cgi"), ("asynchat", "pyasynchat"), ("asyncore", "pyasyncore"), ("imp", "zombie-imp"),
            ("_curses", "windows-curses"), ("_curses_panel", "windows-curses"),
        ]
        for (module, owner) in others { owners[module, default: []].insert(owner) }
        return owners
    }()
}
