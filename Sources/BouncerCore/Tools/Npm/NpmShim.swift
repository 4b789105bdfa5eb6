public enum NpmShim {
    public static func run(_ arguments: [String], context: ShimContext) -> Int32 {
        context.unsupported("npm", why: "is not guarded yet", arguments: arguments)
    }
}
