(000) ldh      [12]
(001) jeq      #0x8847          jt 2	jf 11
(002) ld       [14]
(003) and      #0xfffff000
(004) jeq      #0x64000         jt 5	jf 11
(005) ldb      [16]
(006) jset     #0x1             jt 11	jf 7
(007) ld       [18]
(008) and      #0xfffff000
(009) jeq      #0xc8000         jt 10	jf 11
(010) ret      #262144
(011) ret      #0
