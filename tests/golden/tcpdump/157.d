(000) ld       #pktlen
(001) jge      #0x5dc           jt 4	jf 2
(002) jgt      #0x3c            jt 3	jf 4
(003) ret      #0
(004) ret      #262144
