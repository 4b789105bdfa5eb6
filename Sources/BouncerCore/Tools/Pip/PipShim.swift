public enum PipShim {
    public static func run(_ arguments: [String], context: ShimContext) -> Int32 {
        context.unsupported("pip", why: "is not guarded yet", arguments: arguments)
    }
}
