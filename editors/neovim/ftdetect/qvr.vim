" QVR source files.
autocmd BufRead,BufNewFile *.qvr setfiletype qvr
