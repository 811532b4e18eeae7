(000) ldh      [12]
(001) jeq      #0x8847          jt 2	jf 16
(002) ld       [14]
(003) and      #0xfffff000
(004) jeq      #0x10000         jt 5	jf 16
(005) ldb      [16]
(006) and      #0x1
(007) jeq      #0x1             jt 8	jf 16
(008) ldb      [18]
(009) and      #0xf0
(010) jeq      #0x40            jt 11	jf 16
(011) ld       [30]
(012) jeq      #0xa000001       jt 15	jf 13
(013) ld       [34]
(014) jeq      #0xa000001       jt 15	jf 16
(015) ret      #262144
(016) ret      #0
