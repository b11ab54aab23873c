//! The `kubetutor` binary: all of it is the library's command line, [`kubetutor::cli`].

fn main() -> std::process::ExitCode {
    kubetutor::cli::main()
}
