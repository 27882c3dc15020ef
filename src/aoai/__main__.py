from aoai.cli import main

main()
