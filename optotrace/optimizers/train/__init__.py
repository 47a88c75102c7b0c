"""The run machinery every driver shares (the minibatch cycle, evaluation, candidate selection, the run
directory and its resume, progress, the result type) and the step-by-step Trainer."""
