fn main() -> std::process::ExitCode {
    procurement_review::cli::main()
}
